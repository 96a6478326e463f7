/**
 * Where a cluster's pieces live. Pure: computing a layout touches nothing.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { requireWorkingDir, type Config } from '../base/config.js';

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** Entries of a working dir that the tool itself makes (cleanup removes only these). */
export const TOOL_ENTRIES = ['data', 'sock', 'log', 'server.log', '.db-tool'] as const;
export const MARKER_FILE = '.db-tool';
/** Old data folders renamed away for deletion in the background. */
export const TRASH_PREFIX = '.trash-';

/** Fresh clusters prepared in advance for the next start (src/spare-cluster.ts). */
export const SPARE_PREFIX = '.spare-';

export function isToolEntry(name: string): boolean {
  return (TOOL_ENTRIES as readonly string[]).includes(name) || name.startsWith(TRASH_PREFIX) || name.startsWith(SPARE_PREFIX);
}

export interface ClusterLayout {
  workingDir: string;
  dataDir: string;
  /** Folder of the Unix socket: `sock/` below the working dir, or a short one under /tmp. */
  sockDir: string;
  /** True when `sockDir` had to move out of the working dir because the path was too long. */
  sockDirRelocated: boolean;
  /** Server logs: PG_LOG_PATH, else `data/log`. */
  logDir: string;
  /** Server stdout/stderr before (or without) the logging collector. */
  serverLog: string;
  port: number;
  database: string;
}

export function socketFile(sockDir: string, port: number): string {
  return path.join(sockDir, `.s.PGSQL.${port}`);
}

/**
 * A socket path over the OS limit makes PostgreSQL fail cryptically; we use a short,
 * deterministic folder instead (same working dir → same folder, so every command agrees).
 */
export function shortSocketDir(tmpDir: string, workingDir: string, uid: number): string {
  const digest = crypto.createHash('sha256').update(workingDir).digest('hex').slice(0, 12);
  return path.join(tmpDir.length > 40 ? '/tmp' : tmpDir, `db-tool-${uid}-${digest}`);
}

export function clusterLayout(config: Config, workingDir: string = requireWorkingDir(config)): ClusterLayout {
  const dataDir = path.join(workingDir, 'data');
  let sockDir = path.join(workingDir, 'sock');
  let sockDirRelocated = false;
  if (Buffer.byteLength(socketFile(sockDir, config.port)) > MAX_SOCKET_PATH) {
    sockDir = shortSocketDir(config.tmpDir, workingDir, config.euid);
    sockDirRelocated = true;
  }
  const logDir = config.logPath ?? path.join(dataDir, 'log');
  return {
    workingDir,
    dataDir,
    sockDir,
    sockDirRelocated,
    logDir,
    serverLog: path.join(config.logPath ?? workingDir, 'server.log'),
    port: config.port,
    database: config.database,
  };
}

/** `postgresql://USER@/DB?host=SOCKDIR&port=PORT` (SPEC §4). */
export function clusterUrl(user: string, layout: Pick<ClusterLayout, 'sockDir' | 'port' | 'database'>): string {
  const host = encodeURIComponent(layout.sockDir).replace(/%2F/g, '/');
  return `postgresql://${encodeURIComponent(user)}@/${encodeURIComponent(layout.database)}?host=${host}&port=${layout.port}`;
}

/**
 * Where a cluster's pieces live. Pure: computing a layout touches nothing.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { requireWorkingDir, type Config, type WorkingDirSetting } from '../base/config.js';
import { uniqueSuffix } from '../base/unique-name.js';

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** Entries of a working dir that the tool itself makes (cleanup removes only these). */
export const TOOL_ENTRIES = ['data', 'data.previous', 'sock', 'log', 'server.log', '.db-tool', '.db-tool.built', '.db-tool.server', '.db-tool.lock', '.db-tool.lock.takeover'] as const;
/**
 * The cluster the last wipe replaced, kept (stopped, moved aside by a rename) until the
 * next wipe: `database restore --previous` swaps it back. Not a crash leftover.
 */
export const PREVIOUS_DATA = 'data.previous';
/** What deploys built, to tell a changed cluster from a rebuildable one (user-rows.ts). */
export const BUILT_FILE = '.db-tool.built';
export const MARKER_FILE = '.db-tool';
/** The lock that serialises postgres-init, init, deploy, cleanup and restore (working-dir-lock.ts). */
export const LOCK_FILE = '.db-tool.lock';
/** Old data folders renamed away for deletion in the background. */
export const TRASH_PREFIX = '.trash-';

/**
 * `.trash-<tag>-<pid>-<random>`: a scratch folder in a working dir (new data being made,
 * old data being deleted). The pid tells whether its maker still runs; the prefix makes
 * `database cleanup` accept it and a leftover safe to delete.
 */
export function scratchName(tag: string): string {
  return `${TRASH_PREFIX}${tag}-${uniqueSuffix()}`;
}

/** Fresh clusters prepared in advance for the next start (src/spare-cluster.ts). */
export const SPARE_PREFIX = '.spare-';

export function isToolEntry(name: string): boolean {
  return (TOOL_ENTRIES as readonly string[]).includes(name) || name.startsWith(TRASH_PREFIX) || name.startsWith(SPARE_PREFIX);
}

export interface ClusterLayout {
  workingDir: string;
  dataDir: string;
  /** `data.previous`: the cluster the last wipe replaced (PREVIOUS_DATA). */
  previousDir: string;
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
 * Why the socket cannot live in `sockDir`, if it cannot: a path over the OS limit, or a
 * comma, which libpq takes for a list of hosts (no quoting helps there).
 */
export function socketDirProblem(sockDir: string, port: number): string | undefined {
  if (Buffer.byteLength(socketFile(sockDir, port)) > MAX_SOCKET_PATH) return `would exceed the OS limit of ${MAX_SOCKET_PATH} bytes`;
  if (sockDir.includes(',')) return 'holds a comma, which libpq reads as a list of hosts';
  return undefined;
}

/**
 * A socket path over the OS limit (or with a comma) makes PostgreSQL or libpq fail cryptically; we use a short,
 * deterministic folder instead (same working dir → same folder, so every command agrees).
 */
export function shortSocketDir(tmpDir: string, workingDir: string, uid: number): string {
  const digest = crypto.createHash('sha256').update(workingDir).digest('hex').slice(0, 12);
  return path.join(tmpDir.length > 40 ? '/tmp' : tmpDir, `db-tool-${uid}-${digest}`);
}

/**
 * Settings that differ between the project cluster and a private one (check, diff):
 * given explicitly to the functions that need them instead of a modified Config.
 */
export interface ClusterSettings {
  /** Folder of server logs (and server.log); undefined: `data/log` and the working dir. */
  logPath: string | undefined;
  /** The variable the URL is exported into. */
  urlVar: string;
}

/** The project cluster's settings: PG_LOG_PATH and PG_URL_VAR. */
export function projectSettings(config: Pick<Config, 'logPath' | 'pgUrlVar'>): ClusterSettings {
  return { logPath: config.logPath, urlVar: config.pgUrlVar };
}

/**
 * The settings that place a cluster's folders, socket and database: the working dir
 * (unless given), PG_PORT, PG_DATABASE, TMPDIR (a short socket folder), PG_LOG_PATH.
 */
export type LayoutSettings = WorkingDirSetting & Pick<Config, 'port' | 'database' | 'tmpDir' | 'euid' | 'logPath' | 'pgUrlVar'>;

export function clusterLayout(config: LayoutSettings, workingDir: string = requireWorkingDir(config), settings: ClusterSettings = projectSettings(config)): ClusterLayout {
  const dataDir = path.join(workingDir, 'data');
  let sockDir = path.join(workingDir, 'sock');
  let sockDirRelocated = false;
  if (socketDirProblem(sockDir, config.port)) {
    sockDir = shortSocketDir(config.tmpDir, workingDir, config.euid);
    sockDirRelocated = true;
  }
  const logDir = settings.logPath ?? path.join(dataDir, 'log');
  return {
    workingDir,
    dataDir,
    previousDir: path.join(workingDir, PREVIOUS_DATA),
    sockDir,
    sockDirRelocated,
    logDir,
    serverLog: path.join(settings.logPath ?? workingDir, 'server.log'),
    port: config.port,
    database: config.database,
  };
}

/** `postgresql://USER@/DB?host=SOCKDIR&port=PORT` (SPEC §4). */
export function clusterUrl(user: string, layout: Pick<ClusterLayout, 'sockDir' | 'port' | 'database'>): string {
  const host = encodeURIComponent(layout.sockDir).replace(/%2F/g, '/');
  return `postgresql://${encodeURIComponent(user)}@/${encodeURIComponent(layout.database)}?host=${host}&port=${layout.port}`;
}

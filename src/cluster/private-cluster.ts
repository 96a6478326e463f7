/**
 * Private, throw-away clusters for `check` and `diff`: unique per run, below
 * $LOCAL_DIR/focus/, never PG_WORKING_DIR, and always stopped and removed — on success,
 * failure, SIGINT and SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initCluster, type ClusterConnection } from './cluster.js';
import { requireLocalDir, type Config } from '../base/config.js';
import { withCleanup } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { clusterLayout } from './cluster-layout.js';
import { isRoot, serverUser } from './os-user.js';
import { linkRamDataDir, removeRamDataDir } from './ram-storage.js';
import { stopServer } from './server-process.js';
import { uniqueSuffix } from '../base/unique-name.js';

/** Makes `$LOCAL_DIR/focus/<prefix>-<unique>/`, readable by the server account. */
export function createRunDir(config: Config, prefix: string): string {
  const focus = path.join(requireLocalDir(config), 'focus');
  fs.mkdirSync(focus, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const dir = path.join(focus, `${prefix}-${stamp}-${uniqueSuffix()}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  return dir;
}

export interface PrivateClusterOptions {
  /** Keep the server logs in this folder after the cluster is removed (diff log). */
  logDir?: string;
  /** Start the data already in `<workingDir>/data` (a restored backup) instead of a fresh cluster. */
  existingData?: boolean;
}

/** Starts a fresh cluster (or the data already there) in `workingDir` (a folder below a run dir). */
export function startPrivateCluster(config: Config, log: Logger, workingDir: string, options: PrivateClusterOptions = {}): Promise<ClusterConnection> {
  const privateConfig: Config = { ...config, logPath: options.logDir, reuse: false, pgUrlVar: 'PGURL' };
  const existing = Boolean(options.existingData);
  return initCluster(privateConfig, log, { reuse: existing, workingDir, spare: false, ramData: !existing });
}

/**
 * Makes the (empty) data folder of a private cluster that is filled by other means (a
 * backup being unpacked): in RAM when possible, linked from `<workingDir>/data`.
 */
export function makePrivateDataDir(config: Config, workingDir: string): void {
  const user = serverUser(config);
  const target = linkRamDataDir(clusterLayout(config, workingDir).dataDir, user, isRoot(config));
  if (!target) return;
  fs.mkdirSync(target, { mode: 0o700 });
  if (isRoot(config)) fs.chownSync(target, user.uid, user.gid);
}

/** Stops the cluster of `workingDir` and removes the folder; tolerant of half-made clusters. */
export async function discardCluster(config: Config, workingDir: string): Promise<void> {
  const layout = clusterLayout(config, workingDir);
  // A fast shutdown, not immediate: only a clean exit frees the server's dynamic
  // shared memory in /dev/shm, and with fsync off (and data in RAM) it costs little.
  await stopServer(layout.dataDir).catch(() => undefined);
  removeRamDataDir(layout.dataDir);
  fs.rmSync(workingDir, { recursive: true, force: true });
  if (layout.sockDirRelocated) fs.rmSync(layout.sockDir, { recursive: true, force: true });
}

/**
 * Runs `work` with a run dir that is removed afterwards whatever happens, except for
 * the entries named in `keep` (e.g. logs kept for `diff log`).
 */
export async function withRunDir<T>(config: Config, prefix: string, work: (runDir: string) => Promise<T>, keep: readonly string[] = []): Promise<T> {
  const runDir = createRunDir(config, prefix);
  const cleanup = async (): Promise<void> => {
    const entries = fs.existsSync(runDir) ? fs.readdirSync(runDir) : [];
    const isCluster = (entry: string) => ['data', 'sock'].some((name) => fs.lstatSync(path.join(runDir, entry, name), { throwIfNoEntry: false }));
    const clusterDirs = entries.filter(isCluster);
    await Promise.all(clusterDirs.map((entry) => discardCluster(config, path.join(runDir, entry))));
    for (const entry of entries) {
      if (!keep.includes(entry)) fs.rmSync(path.join(runDir, entry), { recursive: true, force: true });
    }
    if (keep.length === 0 || (fs.existsSync(runDir) && fs.readdirSync(runDir).length === 0)) {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  };
  return withCleanup(cleanup, () => work(runDir));
}

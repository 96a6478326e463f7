/**
 * Run folders of private clusters: `$LOCAL_DIR/focus/<prefix>-<stamp>-<pid>-<hex>/`,
 * one per run of `check` or `diff`, holding one folder per cluster (`pg`, `db1`, `db2`…).
 * Each records its owner (pid, start time, pid namespace) in `.db-tool-run`, with the
 * entries that outlive the run, so that what a killed run left behind is recognised
 * (and cleared) by its watchdog, the next run and `database doctor --fix` — and a live
 * run is never touched. A folder counts as a run folder only when its name, its place
 * (in a `focus/` folder) and its owner file all say so: nothing else is ever cleared.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterLayout, scratchName, type LayoutSettings } from './cluster-layout.js';
import { requireLocalDir, type Config, type LocalDirSetting } from '../base/config.js';
import { makeDirs } from '../base/folders.js';
import { removeInBackground } from '../base/process.js';
import { removeBelow } from '../base/safe-remove.js';
import { uniqueSuffix } from '../base/unique-name.js';
import { formatIdentity, parseIdentity, processesMentioning, processIdentity, type ProcessIdentity } from '../base/pids.js';
import { ramDirOf, removeRamDirInBackground } from './ram-storage.js';
import { stopServer } from './server-process.js';

/** In each run folder: line 1 `db-tool-run <owner>`, line 2 the entries kept after the run (comma list). */
export const RUN_OWNER_FILE = '.db-tool-run';
const OWNER_TAG = 'db-tool-run ';
/** `<prefix>-<stamp>-<pid>-<hex>`, as createRunDir names them. */
const RUN_NAME = /^[a-z][a-z-]*-[0-9]{8}T[0-9]{6}-[0-9]+-[0-9a-f]{6}$/;

export function focusDirOf(config: LocalDirSetting): string {
  return path.join(requireLocalDir(config), 'focus');
}

/** Makes `$LOCAL_DIR/focus/<prefix>-<unique>/`, readable by the server account, owned by this process. */
export function createRunDir(config: LocalDirSetting, prefix: string, keep: readonly string[] = []): string {
  const focus = focusDirOf(config);
  makeDirs(focus);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const dir = path.join(focus, `${prefix}-${stamp}-${uniqueSuffix()}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, RUN_OWNER_FILE), `${OWNER_TAG}${formatIdentity(processIdentity())}\n${keep.join(',')}\n`);
  return dir;
}

export interface RunOwner {
  identity: ProcessIdentity;
  keep: string[];
}

/** The owner of a run folder; undefined when it is not one. */
export function readRunOwner(runDir: string): RunOwner | undefined {
  if (!RUN_NAME.test(path.basename(runDir)) || path.basename(path.dirname(runDir)) !== 'focus') return undefined;
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(runDir, RUN_OWNER_FILE), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  if (!lines[0]?.startsWith(OWNER_TAG)) return undefined;
  const identity = parseIdentity(lines[0].slice(OWNER_TAG.length));
  if (!identity) return undefined;
  return { identity, keep: (lines[1] ?? '').split(',').filter(Boolean) };
}

/** Entries of a run folder that are clusters (hold `data` or `sock`). */
export function clusterDirsIn(runDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  const exists = (file: string): boolean => {
    try {
      fs.lstatSync(file);
      return true;
    } catch {
      return false;
    }
  };
  return entries.map((entry) => path.join(runDir, entry)).filter((dir) => exists(path.join(dir, 'data')) || exists(path.join(dir, 'sock')));
}

export interface DiscardOptions {
  /**
   * The owner is dead: programs it left working on the cluster (tar, cp, psql) are
   * killed, and removal is retried while they let go.
   */
  orphaned?: boolean;
}

/**
 * Removes a folder, retrying a while when a dying program still writes into it. The
 * folder is the server account's: nothing in it is followed.
 */
async function removeFolder(dir: string, retry: boolean): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      removeBelow(path.dirname(dir), dir);
    } catch (error) {
      if (!retry || attempt >= 20) throw error;
    }
    if (!retry || !fs.existsSync(dir) || attempt >= 20) return;
    await sleep(100);
  }
}

/** A run folder's clusters are found by their layout; their folders are removed by a spawned rm. */
export type RunDirSettings = LayoutSettings & Pick<Config, 'env'>;

/**
 * Hands a stopped cluster's folder to a detached `rm` (removeInBackground), so the run
 * does not wait for thousands of files to go: renamed into the project's working dir as
 * `.trash-discarded-*` (where abandoned trash is cleared, should that rm be killed).
 * Only on the working dir's disk (a rename); returns false when it cannot.
 */
function discardInBackground(config: Pick<Config, 'env' | 'workingDir'>, clusterDir: string): boolean {
  const home = config.workingDir;
  const homeStat = home ? fs.statSync(home, { throwIfNoEntry: false }) : undefined;
  if (!home || !homeStat?.isDirectory() || homeStat.dev !== fs.statSync(clusterDir, { throwIfNoEntry: false })?.dev) return false;
  const trash = path.join(home, scratchName('discarded'));
  try {
    fs.renameSync(clusterDir, trash);
  } catch {
    return false;
  }
  removeInBackground(config, trash);
  return true;
}

/** Stops the cluster of `workingDir` and removes the folder; tolerant of half-made clusters. */
export async function discardCluster(config: RunDirSettings, workingDir: string, options: DiscardOptions = {}): Promise<void> {
  const layout = clusterLayout(config, workingDir);
  const ramDir = ramDirOf(layout.dataDir);
  // Immediate: the data goes next, so a shutdown checkpoint would write it for nothing
  // (on disk, for a restored copy kept ready). It frees the shared memory in /dev/shm too.
  await stopServer(layout.dataDir, { immediate: true }).catch(() => undefined);
  if (options.orphaned) {
    for (const pid of processesMentioning([workingDir, ...(ramDir ? [ramDir] : [])])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  // A killed run's leftovers are removed while we wait: nothing of theirs may linger.
  // Its programs may still write there (a template copy works in the folder, naming it
  // nowhere in its arguments) until its reaper ends them: retried meanwhile.
  if (ramDir && options.orphaned) await removeFolder(ramDir, true);
  else if (ramDir) removeRamDirInBackground(config, ramDir);
  // What data in RAM leaves here (a few files) goes at once: quicker than starting an rm.
  if (options.orphaned || ramDir || !discardInBackground(config, workingDir)) await removeFolder(workingDir, Boolean(options.orphaned));
  if (ramDir && options.orphaned) await removeFolder(ramDir, true);
  // In /tmp, and the server account's: removed without following a link it put there.
  if (layout.sockDirRelocated) removeBelow(path.dirname(layout.sockDir), layout.sockDir);
}

/**
 * Stops the run's clusters and removes the run folder, except the entries in `keep`
 * (the folder itself stays while it holds them).
 */
export async function clearRunDir(config: RunDirSettings, runDir: string, keep: readonly string[], options: DiscardOptions = {}): Promise<void> {
  await Promise.all(clusterDirsIn(runDir).filter((dir) => !keep.includes(path.basename(dir))).map((dir) => discardCluster(config, dir, options)));
  let entries: string[];
  try {
    entries = fs.readdirSync(runDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!keep.includes(entry)) await removeFolder(path.join(runDir, entry), Boolean(options.orphaned));
  }
  if (keep.length === 0 || (fs.existsSync(runDir) && fs.readdirSync(runDir).length === 0)) {
    await removeFolder(runDir, Boolean(options.orphaned));
  }
}

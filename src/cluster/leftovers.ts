/**
 * What a crash left behind (SPEC §12, §17): run folders of private clusters whose owner
 * is gone (with their servers and RAM data), RAM data folders whose owner is gone, a
 * lock of a dead holder — and the half-made files of killed commands: partial backups
 * (`<backup>.partial-*`, `<backup>.old-*`), scratch folders of a working dir
 * (`.trash-*`: a restore's unpacked data, a fresh cluster being made), spare copies
 * in progress (`.spare-tmp-*`), temp files (`.test-data.sql.tmp-*`, a template being
 * cached), the RAM folders of `database test` runs (`/dev/shm/db-tool-test-*`), and
 * RAM folders of spares whose working dir is gone (ram-spares.ts).
 * `database doctor` reports them; the next run of the command that makes them and
 * `database doctor --fix` clear them, ending the programs the dead owner left working
 * on them (an orphaned pg_basebackup holding walsenders).
 *
 * Ownership is judged by the owner records (pid and start time) or, for names made by
 * `uniqueSuffix`, by the maker's pid in the name: a live run, and the project cluster of
 * postgres-init (which has no owner record: it is meant to outlive its command), are
 * never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isIdentityAlive, processesMentioning } from '../base/pids.js';
import { allRamDirs, removeRamDir } from './ram-storage.js';
import { orphanedSpareHomes, removeOrphanedSpareHome } from './ram-spares.js';
import { clearRunDir, readRunOwner, type RunDirSettings } from './run-dir.js';
import { stopServer } from './server-process.js';
import { isStale, lockFile, readLockHolder } from './working-dir-lock.js';
import { backupLeftovers, deadRunFolder, runFoldersIn, serverDataDirs, SUFFIX, tempLeftovers, testRamLeftovers, workingDirLeftovers } from './leftover-places.js';

export type LeftoverKind =
  | 'run folder'
  | 'RAM data'
  | 'lock'
  | 'partial backup'
  | 'replaced backup'
  | 'scratch folder'
  | 'spare copy'
  | 'temp file'
  | 'RAM folder'
  | 'RAM spares';

/** Kinds that are (parts of) private clusters; the others are files of killed commands. */
const CLUSTER_KINDS: readonly LeftoverKind[] = ['run folder', 'RAM data', 'lock'];

export function isClusterLeftover(leftover: Leftover): boolean {
  return CLUSTER_KINDS.includes(leftover.kind);
}

export interface Leftover {
  kind: LeftoverKind;
  path: string;
  /** Pid of the process that made it and is gone (0: see `why`). */
  ownerPid: number;
  /** What makes it a leftover when no dead owner does. */
  why?: string;
  /** Live programs the dead owner left working on it (ended when it is cleared). */
  users?: number[];
}

export interface FindOptions {
  /** Folders holding run folders (`$LOCAL_DIR/focus` of the projects to look at). */
  focusDirs?: readonly string[];
  /** Also find servers of dead runs, and RAM folders of spares, anywhere on the machine (doctor: other projects too). */
  scanServers?: boolean;
  /** Working dirs whose lock, scratch folders (`.trash-*`) and spare copies to look at. */
  workingDirs?: readonly string[];
  /** Folders of ours where temp copies are made beside their target (the template cache): any `*.tmp-<pid>-<hex>`. */
  tempDirs?: readonly string[];
  /**
   * Temp files in the user's folders, by the start of their name (`$PROFILE_DIR/.test-data.sql`
   * for `.test-data.sql.tmp-<pid>-<hex>`): there nothing but those names is ever looked at.
   */
  tempNames?: readonly string[];
  /** Also look at the RAM folders of `database test` runs in /dev/shm. */
  testRamFolders?: boolean;
  /** Only these kinds (a command clearing its own). */
  only?: readonly LeftoverKind[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What crashes left, without changing anything. */
export function findLeftovers(options: FindOptions): Leftover[] {
  const found = new Map<string, Leftover>();
  const add = (leftover: Leftover | undefined) => {
    if (leftover && !found.has(leftover.path)) found.set(leftover.path, leftover);
  };
  for (const focus of options.focusDirs ?? []) for (const dir of runFoldersIn(focus)) add(deadRunFolder(dir));
  if (options.scanServers) {
    // A private cluster's data folder is <run folder>/<cluster>/data.
    for (const dataDir of serverDataDirs()) add(deadRunFolder(path.dirname(path.dirname(dataDir))));
  }
  const runs = [...found.keys()];
  for (const ram of allRamDirs()) {
    if (!ram.owner || isIdentityAlive(ram.owner)) continue;
    // Cleared with its run folder anyway.
    if (ram.link && runs.some((run) => ram.link!.startsWith(`${run}/`))) continue;
    add({ kind: 'RAM data', path: ram.dir, ownerPid: ram.owner.pid });
  }
  // Another project's only in a machine-wide look (doctor).
  const ours = [...(options.focusDirs ?? []), ...(options.workingDirs ?? [])];
  for (const { home, workingDir } of orphanedSpareHomes()) {
    if (options.scanServers || ours.some((dir) => workingDir === dir || workingDir.startsWith(`${dir}/`))) add({ kind: 'RAM spares', path: home, ownerPid: 0, why: `its working dir ${workingDir} is gone` });
  }
  for (const workingDir of options.workingDirs ?? []) {
    const holder = readLockHolder(lockFile(workingDir));
    if (holder && isStale(holder)) add({ kind: 'lock', path: lockFile(workingDir), ownerPid: holder.identity.pid });
  }
  for (const focus of options.focusDirs ?? []) backupLeftovers(focus).forEach(add);
  for (const workingDir of options.workingDirs ?? []) workingDirLeftovers(workingDir).forEach(add);
  for (const dir of new Set(options.tempDirs ?? [])) tempLeftovers(dir).forEach(add);
  for (const name of options.tempNames ?? []) tempLeftovers(path.dirname(name), new RegExp(`^${escapeRegExp(path.basename(name))}\\.tmp${SUFFIX}$`)).forEach(add);
  if (options.testRamFolders) testRamLeftovers().forEach(add);
  const only = options.only;
  return [...found.values()].filter((leftover) => !only || only.includes(leftover.kind));
}

/** Ends the programs a dead owner left working on a leftover (SIGKILL: nobody waits for them). */
function endUsers(file: string): void {
  for (const pid of processesMentioning([file])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Removes a file or folder, retrying a while when a dying program still writes into it. */
async function removeLeftover(file: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      fs.rmSync(file, { recursive: true, force: true });
    } catch {
      // a program still writing: try again
    }
    if (!fs.existsSync(file)) return;
    await sleep(100);
  }
}

/**
 * A moved-aside original whose replacement never arrived goes back in place: a backup
 * replaced (`<backup>.old-*` without `<backup>`), the data a restore moved aside
 * (`.trash-restore-previous-*` without `data`). Returns true when it did.
 */
function putBack(leftover: Leftover): boolean {
  let original: string | undefined;
  if (leftover.kind === 'replaced backup') original = leftover.path.replace(new RegExp(`\\.old${SUFFIX}$`), '');
  if (leftover.kind === 'scratch folder' && path.basename(leftover.path).startsWith('.trash-restore-previous-')) {
    original = path.join(path.dirname(leftover.path), 'data');
  }
  if (!original || fs.existsSync(original)) return false;
  fs.renameSync(leftover.path, original);
  return true;
}

async function clearOne(config: RunDirSettings, leftover: Leftover): Promise<void> {
  switch (leftover.kind) {
    case 'run folder':
      await clearRunDir(config, leftover.path, readRunOwner(leftover.path)?.keep ?? [], { orphaned: true });
      return;
    case 'RAM data':
      await stopServer(path.join(leftover.path, 'data'), { timeoutMs: 3_000 }).catch(() => undefined);
      removeRamDir(leftover.path);
      return;
    case 'RAM spares':
      removeOrphanedSpareHome(leftover.path);
      return;
    case 'lock': {
      // Only if still the same dead holder's.
      const holder = readLockHolder(leftover.path);
      if (holder && isStale(holder) && holder.identity.pid === leftover.ownerPid) fs.rmSync(leftover.path, { force: true });
      return;
    }
    default:
      endUsers(leftover.path);
      if (!putBack(leftover)) await removeLeftover(leftover.path);
  }
}

/** Clears leftovers (each one re-checked as it goes); returns the ones cleared. */
export async function clearLeftovers(config: RunDirSettings, leftovers: readonly Leftover[]): Promise<Leftover[]> {
  const cleared: Leftover[] = [];
  for (const leftover of leftovers) {
    await clearOne(config, leftover);
    // A run folder may stay for the logs it keeps; without its owner record it is no run.
    const gone = leftover.kind === 'run folder' ? !readRunOwner(leftover.path) : !fs.existsSync(leftover.path);
    if (gone) cleared.push(leftover);
  }
  return cleared;
}

/** Describes a leftover in a few words, for doctor. */
export function describeLeftover(leftover: Leftover): string {
  const users = leftover.users?.length ? `; still used by pid ${leftover.users.join(', ')}` : '';
  return `${leftover.kind} ${leftover.path} (${leftover.why ?? `pid ${leftover.ownerPid} is gone`}${users})`;
}

/** Clears the leftovers of `kinds` that dead runs left (a command clearing its own before it starts). */
export async function clearDeadLeftovers(config: RunDirSettings, options: FindOptions): Promise<Leftover[]> {
  return clearLeftovers(config, findLeftovers(options));
}

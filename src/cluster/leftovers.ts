/**
 * What a crash left behind (SPEC §12): run folders of private clusters whose owner is
 * gone (with their servers and RAM data), RAM data folders whose owner is gone, and a
 * lock of a dead holder. `database doctor` reports them; the next run and
 * `database doctor --fix` clear them. Ownership is judged by the owner records (pid and
 * start time), so a live run, and the project cluster of postgres-init (which has no
 * owner record: it is meant to outlive its command), are never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../base/config.js';
import { isIdentityAlive, processCommandLines } from '../base/pids.js';
import { allRamDirs, removeRamDir } from './ram-storage.js';
import { clearRunDir, readRunOwner } from './run-dir.js';
import { stopServer } from './server-process.js';
import { isStale, lockFile, readLockHolder } from './working-dir-lock.js';

export type LeftoverKind = 'run folder' | 'RAM data' | 'lock';

export interface Leftover {
  kind: LeftoverKind;
  path: string;
  /** Pid of the process that made it and is gone. */
  ownerPid: number;
}

export interface FindOptions {
  /** Folders holding run folders (`$LOCAL_DIR/focus` of the projects to look at). */
  focusDirs?: readonly string[];
  /** Also find servers of dead runs anywhere on the machine (doctor: other projects too). */
  scanServers?: boolean;
  /** Working dirs whose lock to look at. */
  workingDirs?: readonly string[];
}

function deadRunFolder(runDir: string): Leftover | undefined {
  const owner = readRunOwner(runDir);
  if (!owner || isIdentityAlive(owner.identity)) return undefined;
  return { kind: 'run folder', path: runDir, ownerPid: owner.identity.pid };
}

function runFoldersIn(focusDir: string): string[] {
  try {
    return fs.readdirSync(focusDir).map((entry) => path.join(focusDir, entry));
  } catch {
    return [];
  }
}

/** Data folders (`-D`) of the postgres servers running on this machine. */
function serverDataDirs(): string[] {
  const dirs: string[] = [];
  for (const { args } of processCommandLines()) {
    const dataDir = args[args.indexOf('-D') + 1];
    if (args.includes('-D') && dataDir && /postgres$/.test(args[0] ?? '')) dirs.push(dataDir);
  }
  return dirs;
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
  for (const workingDir of options.workingDirs ?? []) {
    const holder = readLockHolder(lockFile(workingDir));
    if (holder && isStale(holder)) add({ kind: 'lock', path: lockFile(workingDir), ownerPid: holder.identity.pid });
  }
  return [...found.values()];
}

async function clearOne(config: Config, leftover: Leftover): Promise<void> {
  switch (leftover.kind) {
    case 'run folder':
      await clearRunDir(config, leftover.path, readRunOwner(leftover.path)?.keep ?? [], { orphaned: true });
      return;
    case 'RAM data':
      await stopServer(path.join(leftover.path, 'data'), { timeoutMs: 3_000 }).catch(() => undefined);
      removeRamDir(leftover.path);
      return;
    case 'lock': {
      // Only if still the same dead holder's.
      const holder = readLockHolder(leftover.path);
      if (holder && isStale(holder) && holder.identity.pid === leftover.ownerPid) fs.rmSync(leftover.path, { force: true });
      return;
    }
  }
}

/** Clears leftovers (each one re-checked as it goes); returns the ones cleared. */
export async function clearLeftovers(config: Config, leftovers: readonly Leftover[]): Promise<Leftover[]> {
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
  return `${leftover.kind} ${leftover.path} (pid ${leftover.ownerPid} is gone)`;
}

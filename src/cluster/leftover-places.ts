/**
 * Where each kind of leftover is looked for (leftovers.ts): names that carry their
 * maker's pid beside backups, in working dirs, temp folders and /dev/shm, and the run
 * folders of private clusters whose owner is gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isIdentityAlive, isProcessAlive, processCommandLines, processesMentioning } from '../base/pids.js';
import { readRunOwner } from './run-dir.js';
import type { Leftover, LeftoverKind } from './leftovers.js';

/** `<pid>-<6 hex>` at the end of a name: made by `uniqueSuffix`, the pid its maker's. */
export const SUFFIX = '-([0-9]+)-[0-9a-f]{6}';

/** What a crash leaves beside a target (a backup folder, `test-data.sql`, a cache entry). */
const SIBLING_NAMES: ReadonlyArray<[RegExp, LeftoverKind]> = [
  [new RegExp(`^.+\\.partial${SUFFIX}$`), 'partial backup'],
  [new RegExp(`^.+\\.old${SUFFIX}$`), 'replaced backup'],
];

const TEMP_NAME = new RegExp(`^.+\\.tmp${SUFFIX}$`);

const SCRATCH_NAME = new RegExp(`^\\.trash-[a-z-]+${SUFFIX}$`);

const SPARE_TMP_NAME = /^\.spare-tmp-([0-9]+)(?:-[0-9a-z]+)?$/;

const SHM = '/dev/shm';

const TEST_RAM_NAME = /^db-tool-test-([0-9]+)-/;

function entriesOf(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A name whose maker (the pid in it) is gone, with the programs still working on it;
 * undefined while its maker lives or while a detached `rm` of ours deletes it.
 */
function deadMade(kind: LeftoverKind, file: string, pid: number): Leftover | undefined {
  if (pid === process.pid || isProcessAlive(pid)) return undefined;
  const users = processesMentioning([file]);
  if (users.some(isDeleter)) return undefined;
  return { kind, path: file, ownerPid: pid, ...(users.length > 0 ? { users } : {}) };
}

/** True for the detached `rm -rf` that removeInBackground starts (and its shell). */
function isDeleter(pid: number): boolean {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return path.basename(args[0] ?? '') === 'rm' || args.some((arg) => arg.includes('rm -rf'));
  } catch {
    return false;
  }
}

/** Partial and replaced backups beside the backups in `focusDir`. */
export function backupLeftovers(focusDir: string): Leftover[] {
  const found: Leftover[] = [];
  for (const entry of entriesOf(focusDir)) {
    for (const [pattern, kind] of SIBLING_NAMES) {
      const pid = pattern.exec(entry)?.[1];
      const leftover = pid ? deadMade(kind, path.join(focusDir, entry), Number(pid)) : undefined;
      if (leftover) found.push(leftover);
    }
  }
  return found;
}

/** Scratch folders and spare copies in progress in a working dir. */
export function workingDirLeftovers(workingDir: string): Leftover[] {
  const found: Leftover[] = [];
  for (const entry of entriesOf(workingDir)) {
    const scratch = SCRATCH_NAME.exec(entry)?.[1];
    const spare = SPARE_TMP_NAME.exec(entry)?.[1];
    const leftover = scratch
      ? deadMade('scratch folder', path.join(workingDir, entry), Number(scratch))
      : spare
        ? deadMade('spare copy', path.join(workingDir, entry), Number(spare))
        : undefined;
    if (leftover) found.push(leftover);
  }
  return found;
}

export function tempLeftovers(dir: string, pattern: RegExp = TEMP_NAME): Leftover[] {
  return entriesOf(dir).flatMap((entry) => {
    const pid = pattern.exec(entry)?.[1];
    const leftover = pid ? deadMade('temp file', path.join(dir, entry), Number(pid)) : undefined;
    return leftover ? [leftover] : [];
  });
}

/** RAM folders of `database test` runs (tablespaces of their copies) whose run is gone. */
export function testRamLeftovers(): Leftover[] {
  return entriesOf(SHM).flatMap((entry) => {
    const pid = TEST_RAM_NAME.exec(entry)?.[1];
    const leftover = pid ? deadMade('RAM folder', path.join(SHM, entry), Number(pid)) : undefined;
    return leftover ? [leftover] : [];
  });
}

export function deadRunFolder(runDir: string): Leftover | undefined {
  const owner = readRunOwner(runDir);
  if (!owner || isIdentityAlive(owner.identity)) return undefined;
  return { kind: 'run folder', path: runDir, ownerPid: owner.identity.pid };
}

export function runFoldersIn(focusDir: string): string[] {
  try {
    return fs.readdirSync(focusDir).map((entry) => path.join(focusDir, entry));
  } catch {
    return [];
  }
}

/** Data folders (`-D`) of the postgres servers running on this machine. */
export function serverDataDirs(): string[] {
  const dirs: string[] = [];
  for (const { args } of processCommandLines()) {
    const dataDir = args[args.indexOf('-D') + 1];
    if (args.includes('-D') && dataDir && /postgres$/.test(args[0] ?? '')) dirs.push(dataDir);
  }
  return dirs;
}

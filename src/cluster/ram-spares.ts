/**
 * Where the spares of throw-away clusters live (diff's DB1 and DB2, check's clusters).
 * Those clusters keep their data in RAM (ram-storage.ts) and take a spare by a rename,
 * so the spares must be on the same tmpfs. Kept on disk, a spare is also read back
 * file by file once the page cache has dropped it: on a slow disk (150 IOPS) that was
 * 5 s of a 5.1 s diff, where the same work by hand took 1 s.
 *
 * So when the working dir is on a disk, these spares (template copies and restored
 * copies of the backup) are kept in a RAM folder of that working dir,
 * `/dev/shm/db-tool-spares-<hash of its path>`, which names the working dir in a
 * `working-dir` file. postgres-init's own spares stay in the working dir: its cluster
 * must be on disk. A working dir already in RAM keeps them itself. The folder goes
 * with the working dir (`database cleanup`); one whose working dir is gone is a
 * leftover that the project's next run, or `database doctor --fix`, removes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isTmpfs, removeRamDir, SHM, shmFolders, tmpfsHasRoom } from './ram-storage.js';
import { stopSparePreparation } from './spare-cluster.js';
import { readPlainFile } from '../base/safe-files.js';

const HOME_PREFIX = 'db-tool-spares-';
const WORKING_DIR_FILE = 'working-dir';

/** The name of `workingDir`'s RAM folder of spares. */
export function spareHomeOf(workingDir: string): string {
  const hash = crypto.createHash('sha256').update(path.resolve(workingDir)).digest('hex').slice(0, 16);
  return path.join(SHM, `${HOME_PREFIX}${hash}`);
}

/** True when `home` is a folder (no link) of `owner`'s only. */
function isOwnHome(home: string, owner: { uid: number }): boolean {
  const stat = fs.lstatSync(home, { throwIfNoEntry: false });
  return stat?.isDirectory() === true && stat.uid === owner.uid && (stat.mode & 0o077) === 0;
}

/**
 * The folder that keeps the spares of `workingDir`'s throw-away clusters: the working
 * dir itself when it is in RAM, else its RAM folder (made when `create` and there is
 * room), else undefined (the spares, if any, are the working dir's). A folder of that
 * name that is not the server account's own (another account made it first) is
 * never used.
 */
export function throwAwaySpareHome(workingDir: string, owner: { uid: number; gid: number }, options: { create: boolean; asRoot: boolean }): string | undefined {
  if (!fs.statSync(workingDir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  if (isTmpfs(workingDir)) return workingDir;
  const home = spareHomeOf(workingDir);
  if (isOwnHome(home, owner)) return home;
  if (!options.create || !tmpfsHasRoom()) return undefined;
  try {
    fs.mkdirSync(home, { mode: 0o700 });
  } catch {
    return undefined; // someone else's name, or made meanwhile: next time
  }
  fs.writeFileSync(path.join(home, WORKING_DIR_FILE), `${path.resolve(workingDir)}\n`, { mode: 0o600 });
  if (options.asRoot) {
    fs.chownSync(path.join(home, WORKING_DIR_FILE), owner.uid, owner.gid);
    fs.chownSync(home, owner.uid, owner.gid);
  }
  return home;
}

/**
 * Where the spares of `workingDir`'s throw-away clusters may be, preferred first: its
 * RAM folder (throwAwaySpareHome), then the working dir itself; none when it does not
 * exist.
 */
export function throwAwaySpareHomes(workingDir: string | undefined, owner: { uid: number; gid: number }, options: { create: boolean; asRoot: boolean }): string[] {
  if (!workingDir || !fs.statSync(workingDir, { throwIfNoEntry: false })?.isDirectory()) return [];
  const ram = throwAwaySpareHome(workingDir, owner, options);
  return ram && ram !== workingDir ? [ram, workingDir] : [workingDir];
}

/** Stops the spare copies in progress of `workingDir`: in it, and in its RAM folder of spares. */
export function stopSparePreparations(workingDir: string): void {
  stopSparePreparation(workingDir);
  const home = spareHomeOf(workingDir);
  if (fs.lstatSync(home, { throwIfNoEntry: false })?.isDirectory()) stopSparePreparation(home);
}

/** Removes `workingDir`'s RAM folder of spares, stopping the copies in progress there. */
export function removeThrowAwaySpares(workingDir: string): void {
  removeSpareHome(spareHomeOf(workingDir));
}

function removeSpareHome(home: string): void {
  if (!fs.lstatSync(home, { throwIfNoEntry: false })?.isDirectory()) return;
  stopSparePreparation(home);
  removeRamDir(home);
}

/** RAM folders of spares whose working dir is gone. */
export function orphanedSpareHomes(): { home: string; workingDir: string }[] {
  return shmFolders(HOME_PREFIX).flatMap((home) => {
    // The server account's folder: a link or FIFO in the file's place reads as nothing.
    const workingDir = readPlainFile(path.join(home, WORKING_DIR_FILE))?.trim();
    return workingDir && spareHomeOf(workingDir) === home && !fs.existsSync(workingDir) ? [{ home, workingDir }] : [];
  });
}

/** Removes an orphaned RAM folder of spares (see orphanedSpareHomes), unless its working dir came back. */
export function removeOrphanedSpareHome(home: string): void {
  if (orphanedSpareHomes().some((orphan) => orphan.home === home)) removeSpareHome(home);
}

/**
 * Where root touches the server account's files (SPEC §17 "Security"). The working
 * dir, the log folder and a relocated socket folder are handed to PG_OS_USER; each
 * file or folder we open, create, chown or remove in them goes through
 * base/safe-files.ts with the right anchor: the folder at and above which the path
 * is the user's own, below which no link is followed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterLayout } from './cluster-layout.js';
import { ramDirOf, SHM } from './ram-storage.js';

/** A path and the folder below which nothing of it is followed. */
export interface ServerPath {
  anchor: string;
  path: string;
}

function isInside(folder: string, target: string): boolean {
  const relative = path.relative(folder, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * A throw-away cluster's `data` is a link we made to a folder in RAM: its files are
 * reached through our link's target, walked from /dev/shm without following anything.
 */
function ramDataDir(dataDir: string): string | undefined {
  const stat = fs.lstatSync(dataDir, { throwIfNoEntry: false });
  const me = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  if (!stat?.isSymbolicLink() || (me !== undefined && stat.uid !== me) || !ramDirOf(dataDir)) return undefined;
  return fs.readlinkSync(dataDir);
}

/**
 * `target` (a file or folder of the cluster) with its anchor: the working dir for what
 * lies in it; the parent of a log folder or socket folder kept elsewhere, so that the
 * handed-over folder itself is never a link either.
 */
export function serverPath(layout: Pick<ClusterLayout, 'workingDir' | 'dataDir' | 'logDir' | 'sockDir'>, target: string): ServerPath {
  if (isInside(layout.dataDir, target)) {
    const ram = ramDataDir(layout.dataDir);
    if (ram) return { anchor: SHM, path: path.join(ram, path.relative(layout.dataDir, target)) };
  }
  if (isInside(layout.workingDir, target)) return { anchor: layout.workingDir, path: target };
  for (const folder of [layout.logDir, layout.sockDir]) {
    if (isInside(folder, target)) return { anchor: path.dirname(folder), path: target };
  }
  return { anchor: path.dirname(target), path: target };
}

/**
 * The anchor of a new data folder: its parent (a working dir), or /dev/shm for one in
 * a RAM folder (the server account's own, which it could swap for a link).
 */
export function serverFolderAnchor(dataDir: string): string {
  return path.dirname(path.dirname(dataDir)) === SHM ? SHM : path.dirname(dataDir);
}

/**
 * A folder about to be given to the server account (a data folder being filled from a
 * backup): our RAM link's target walked from /dev/shm, else the folder below its parent.
 */
export function serverFolder(dir: string): ServerPath {
  const ram = ramDataDir(dir);
  return ram ? { anchor: SHM, path: ram } : { anchor: path.dirname(dir), path: dir };
}

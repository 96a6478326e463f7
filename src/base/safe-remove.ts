/**
 * `rm -rf` below a folder another account can write (see safe-files.ts): a link in the
 * tree is removed, never followed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { at, inFolder, levelsBelow, PlantedFileError, withPath } from './safe-files.js';

const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

/** unlink(2), which never follows a link; a name already gone is fine. */
function unlinkQuietly(entry: string): void {
  try {
    fs.unlinkSync(entry);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Removes what the folder open as `dirFd` holds, never following a link. */
function emptyFolder(dirFd: number): void {
  for (const name of fs.readdirSync(at(dirFd, '.'))) {
    const entry = at(dirFd, name);
    const stat = fs.lstatSync(entry, { throwIfNoEntry: false });
    if (!stat) continue;
    if (!stat.isDirectory()) {
      unlinkQuietly(entry);
      continue;
    }
    let fd: number;
    try {
      fd = fs.openSync(entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (error) {
      // Swapped for a link since lstat: the link itself goes.
      if ((error as NodeJS.ErrnoException).code === 'ELOOP' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') unlinkQuietly(entry);
      continue;
    }
    try {
      emptyFolder(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.rmdirSync(entry);
  }
}

/**
 * `rm -rf` of `target` below `anchor` that never follows a link: a link in the tree is
 * removed, not what it names, even when a folder is swapped for one while we work. A
 * missing target is fine.
 */
export function removeBelow(anchor: string, target: string): void {
  const levels = levelsBelow(anchor, target);
  if (levels.length === 0) throw new Error(`refusing to remove the anchor ${anchor} itself`);
  try {
    inFolder(anchor, path.dirname(target), (dirFd) => {
      const entry = at(dirFd, path.basename(target));
      const stat = fs.lstatSync(entry, { throwIfNoEntry: false });
      if (!stat) return;
      if (stat.isDirectory()) {
        let fd: number | undefined;
        try {
          fd = fs.openSync(entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ELOOP' && code !== 'ENOTDIR') throw withPath(error, target);
        }
        if (fd !== undefined) {
          try {
            emptyFolder(fd);
          } finally {
            fs.closeSync(fd);
          }
          fs.rmdirSync(entry);
          return;
        }
      }
      unlinkQuietly(entry);
    });
  } catch (error) {
    // A level above it is missing, or planted: either way there is no target of ours.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof PlantedFileError) return;
    throw error;
  }
}

/**
 * Files in folders another account can write (SPEC §17 "Security"). Run as root, the
 * cluster's folders belong to the server account (PG_OS_USER), which could put a link
 * where we expect a file or folder of ours, and so have root write, create, chown or
 * delete whatever the link names. Below such a folder (the "anchor") we never follow a
 * link: every level is opened with O_NOFOLLOW, each from the descriptor of the level
 * above (through /proc/self/fd, as openat would), so a folder swapped for a link while
 * we work is no way around it either. Something planted there (a link, a FIFO, a hard
 * link, a file of a third account) is refused with one line (exit 2).
 *
 * The anchor itself and the path above it are the user's own spelling (a PG_WORKING_DIR
 * reached through a link of theirs) and are followed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AmbiguousError } from './errors.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = fs.constants;

/** A planted entry: refused, never used (exit 2). */
export class PlantedFileError extends AmbiguousError {}

function refuse(file: string, what: string): PlantedFileError {
  return new PlantedFileError(
    `refusing to use ${file}: ${what}, not what db-tool made there (another account can write this folder; remove it and run again)`,
  );
}

/** `file`'s levels below `anchor`; a path outside the anchor is a bug of the caller. */
export function levelsBelow(anchor: string, file: string): string[] {
  const relative = path.relative(anchor, file);
  if (relative === '') return [];
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`${file} is not inside ${anchor}`);
  return relative.split(path.sep);
}

/** The path of `name` in the folder open as `dirFd`, resolved from the descriptor, not from a path. */
export function at(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** An errno error of a /proc/self/fd path, told with the real path. */
export function withPath(error: unknown, file: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno?.code !== 'string') return error;
  const told = new Error(`${errno.code}: ${errno.syscall ?? 'open'} '${file}'`) as NodeJS.ErrnoException;
  told.code = errno.code;
  told.errno = errno.errno;
  told.syscall = errno.syscall;
  told.path = file;
  return told;
}

function openLevel(dirFd: number, name: string, shown: string): number {
  try {
    return fs.openSync(at(dirFd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // With O_DIRECTORY, Linux reports a link as ENOTDIR rather than ELOOP.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const link = fs.lstatSync(at(dirFd, name), { throwIfNoEntry: false })?.isSymbolicLink();
      throw refuse(shown, link || code === 'ELOOP' ? 'it is a symbolic link where a folder belongs' : 'it is not a folder');
    }
    throw withPath(error, shown);
  }
}

/**
 * Opens the folder `dir` (the anchor or below it) without following a link below the
 * anchor; `create`: missing levels are made (mode 0700 unless given).
 */
function openFolder(anchor: string, dir: string, create?: { mode: number }): number {
  let fd: number;
  try {
    fd = fs.openSync(anchor, O_RDONLY | O_DIRECTORY);
  } catch (error) {
    throw withPath(error, anchor);
  }
  let shown = anchor;
  try {
    for (const level of levelsBelow(anchor, dir)) {
      shown = path.join(shown, level);
      if (create) {
        try {
          fs.mkdirSync(at(fd, level), { mode: create.mode });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw withPath(error, shown);
        }
      }
      const next = openLevel(fd, level, shown);
      fs.closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** Runs `work` on the open folder `dir` and closes it. */
export function inFolder<T>(anchor: string, dir: string, work: (dirFd: number) => T, create?: { mode: number }): T {
  const fd = openFolder(anchor, dir, create);
  try {
    return work(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export type OpenPurpose = 'read' | 'append' | 'rewrite' | 'create';

export interface OpenOptions {
  /** Mode of a file we create (default 0600). */
  mode?: number;
  /**
   * Accounts that may own an existing file besides the one we run as (the server
   * account's files: postgresql.conf). A file of any other account is refused.
   */
  owners?: readonly number[];
}

const FLAGS: Record<OpenPurpose, number> = {
  read: O_RDONLY,
  append: O_WRONLY | O_APPEND | O_CREAT,
  // Truncated only once we know what it is: O_TRUNC would empty a planted file first.
  rewrite: O_RDWR | O_CREAT,
  create: O_WRONLY | O_CREAT | O_EXCL,
};

/** Refuses what is not a plain file of ours (or of the accounts in `owners`). */
function checkOpened(fd: number, file: string, options: OpenOptions): void {
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) throw refuse(file, stat.isFIFO() ? 'it is a FIFO' : 'it is not a regular file');
  if (stat.nlink > 1) throw refuse(file, `it is a hard link (${stat.nlink} names for one file)`);
  const me = typeof process.geteuid === 'function' ? process.geteuid() : stat.uid;
  if (stat.uid !== me && !(options.owners ?? []).includes(stat.uid)) throw refuse(file, `it belongs to another account (uid ${stat.uid})`);
}

/**
 * Opens `file` below `anchor` without following any link below the anchor, and checks
 * it is a plain file of ours; returns the descriptor (the caller closes it). Missing
 * levels are an ENOENT error, as for fs.openSync.
 */
export function openBelow(anchor: string, file: string, purpose: OpenPurpose, options: OpenOptions = {}): number {
  return inFolder(anchor, path.dirname(file), (dirFd) => {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO must not block the open (it is refused just after).
      fd = fs.openSync(at(dirFd, path.basename(file)), FLAGS[purpose] | O_NOFOLLOW | O_NONBLOCK, options.mode ?? 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw refuse(file, 'it is a symbolic link');
      if (code === 'ENXIO') throw refuse(file, 'it is a FIFO');
      throw withPath(error, file);
    }
    try {
      checkOpened(fd, file, options);
      if (purpose === 'rewrite') fs.ftruncateSync(fd, 0);
      return fd;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  });
}

/** Reads `file` below `anchor` (see openBelow); undefined when it does not exist. */
export function readBelow(anchor: string, file: string, options: OpenOptions = {}): string | undefined {
  let fd: number;
  try {
    fd = openBelow(anchor, file, 'read', options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `text` into `file` below `anchor`, replacing (`rewrite`), adding to (`append`) or making it (`create`). */
export function writeBelow(anchor: string, file: string, text: string, purpose: Exclude<OpenPurpose, 'read'>, options: OpenOptions = {}): void {
  const fd = openBelow(anchor, file, purpose, options);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Makes the folder `dir` below `anchor` and the levels missing up to it (mode 0700
 * unless given), without following a link below the anchor.
 */
export function makeDirsBelow(anchor: string, dir: string, mode = 0o700): void {
  inFolder(anchor, dir, () => undefined, { mode });
}

/**
 * Gives `target` (the anchor, or a folder or file below it) to `uid`:`gid`: changed
 * through its descriptor, never through a link.
 */
export function chownBelow(anchor: string, target: string, uid: number, gid: number): void {
  if (levelsBelow(anchor, target).length === 0) {
    inFolder(anchor, anchor, (fd) => fs.fchownSync(fd, uid, gid));
    return;
  }
  inFolder(anchor, path.dirname(target), (dirFd) => {
    let fd: number;
    try {
      fd = fs.openSync(at(dirFd, path.basename(target)), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw refuse(target, 'it is a symbolic link');
      throw withPath(error, target);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isDirectory() && !stat.isFile()) throw refuse(target, 'it is neither a folder nor a regular file');
      if (stat.isFile() && stat.nlink > 1) throw refuse(target, `it is a hard link (${stat.nlink} names for one file)`);
      fs.fchownSync(fd, uid, gid);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * Opens a log file of ours for appending (hydrate/patch output in PG_LOG_PATH). In a
 * folder of our own it is opened as asked, links and all (`/dev/stdout` works); in a
 * folder another account owns (PG_LOG_PATH is handed to the server account), never
 * through a link or onto a planted file.
 */
export function openLogForAppend(file: string): number {
  const folder = path.dirname(file);
  const owner = fs.statSync(folder, { throwIfNoEntry: false })?.uid;
  const me = typeof process.geteuid === 'function' ? process.geteuid() : owner;
  if (owner === undefined || owner === me) return fs.openSync(file, 'a');
  return openBelow(folder, file, 'append', { mode: 0o644, owners: [owner] });
}

/**
 * `dev:ino` of the folder `dir` below `anchor` (opened without following a link): a
 * program run with `dir` as its working folder checks it with `stat -c %d:%i .` before
 * it writes there, so a folder swapped for a link before it started is caught, and
 * one swapped afterwards no longer matters (its working folder is pinned).
 */
export function folderIdentity(anchor: string, dir: string): string {
  return inFolder(anchor, dir, (fd) => {
    const stat = fs.fstatSync(fd);
    return `${stat.dev}:${stat.ino}`;
  });
}

/**
 * The text of a small state file the server account writes (postmaster.pid, a socket's
 * lock, PG_VERSION); undefined when it is missing or not a plain file. The last level is
 * never followed and never blocks: a link or FIFO put in its place reads as nothing.
 */
export function readPlainFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd, 'utf8') : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Data folders of throw-away clusters (check, diff) live in RAM when the machine has a
 * roomy tmpfs at /dev/shm: the cluster's folder under $LOCAL_DIR/focus/ holds a `data`
 * symlink to it. Copying a template or unpacking a backup then costs memory bandwidth,
 * not disk writes, which on a busy or throttled disk take seconds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatIdentity, parseIdentity, processIdentity, type ProcessIdentity } from '../base/pids.js';
import { spawnDetachedScript } from '../base/process.js';
import { readBelow, readPlainFile, writeBelow } from '../base/safe-files.js';
import { removeBelow } from '../base/safe-remove.js';

export const SHM = '/dev/shm';
/**
 * In each RAM folder: the owner (pid and start time) and the `data` link pointing at it,
 * so what a killed run left in RAM can be told from a live run's data.
 */
const OWNER_FILE = 'owner';
const TMPFS_MAGIC = 0x01021994;
/** Leave plenty of room: a cluster grows with what the sources and tests load. */
const MIN_FREE_BYTES = 1024 * 1024 * 1024;
const PREFIX = 'db-tool-';

/** True when `dir` lies on a tmpfs (in RAM). */
export function isTmpfs(dir: string): boolean {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

export function tmpfsHasRoom(): boolean {
  try {
    const stat = fs.statfsSync(SHM);
    return stat.type === TMPFS_MAGIC && stat.bavail * stat.bsize >= MIN_FREE_BYTES;
  } catch {
    return false;
  }
}

/**
 * The RAM folders of the clusters below one run folder's parent (`$LOCAL_DIR/focus`)
 * share a tag, so what a project's runs left in RAM can be found (doctor, tests).
 */
export function ramTag(focusDir: string): string {
  return crypto.createHash('sha256').update(focusDir).digest('hex').slice(0, 12);
}

/** The folders in /dev/shm whose names start with `prefix`; none when it cannot be read. */
export function shmFolders(prefix: string): string[] {
  try {
    return fs.readdirSync(SHM).filter((entry) => entry.startsWith(prefix)).map((entry) => path.join(SHM, entry));
  } catch {
    return [];
  }
}

/** RAM folders of the private clusters of one `$LOCAL_DIR/focus`. */
export function ramDirsOf(focusDir: string): string[] {
  const tag = ramTag(focusDir);
  return shmFolders(PREFIX).filter((dir) => path.basename(dir).includes(`-${tag}-`));
}

/**
 * Points `link` (a cluster's `data`, below a run folder) at a new, not yet existing
 * data folder in RAM, inside a private parent folder of its own, and returns that
 * path; undefined when there is no suitable tmpfs (the data then stays on disk).
 * The link exists before anything is put in RAM, so a cleanup always finds it. A link
 * made already (an earlier attempt to fill it) gives its folder again.
 */
export function linkRamDataDir(link: string, owner: { uid: number; gid: number }, asRoot: boolean): string | undefined {
  if (ramDirOf(link)) return fs.readlinkSync(link);
  if (!tmpfsHasRoom()) return undefined;
  let parent: string;
  try {
    const tag = ramTag(path.dirname(path.dirname(path.dirname(link))));
    parent = fs.mkdtempSync(path.join(SHM, `${PREFIX}${owner.uid}-${tag}-`));
    fs.chmodSync(parent, 0o700);
    fs.writeFileSync(path.join(parent, OWNER_FILE), `${formatIdentity(processIdentity())}\n${link}\n`);
    if (asRoot) fs.chownSync(parent, owner.uid, owner.gid);
  } catch {
    return undefined;
  }
  const target = path.join(parent, 'data');
  try {
    fs.symlinkSync(target, link);
  } catch (error) {
    // The cluster folder is gone (a cleanup ran): nothing may stay behind in RAM.
    fs.rmSync(parent, { recursive: true, force: true });
    throw error;
  }
  return target;
}

export interface RamDir {
  /** The folder in /dev/shm (parent of the data folder). */
  dir: string;
  /** Its owner; undefined for folders made before owners were recorded. */
  owner: ProcessIdentity | undefined;
  /** The `data` link of the cluster it belongs to. */
  link: string | undefined;
}

/** Every RAM folder of db-tool's private clusters on this machine (that we may read). */
export function allRamDirs(): RamDir[] {
  return shmFolders(PREFIX).map((dir) => {
    // The server account's folder: a link or FIFO in the record's place reads as nothing.
    const record = readPlainFile(path.join(dir, OWNER_FILE))?.split('\n');
    return { dir, owner: parseIdentity(record?.[0]), link: record?.[1] || undefined };
  });
}

/** The RAM folder behind a `data` link made by `linkRamDataDir`, if it is one. */
export function ramDirOf(link: string): string | undefined {
  let target: string;
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return undefined;
    target = fs.readlinkSync(link);
  } catch {
    return undefined;
  }
  const parent = path.dirname(target);
  return path.dirname(parent) === SHM && path.basename(parent).startsWith(PREFIX) ? parent : undefined;
}

/**
 * The RAM folders of ours (`/dev/shm/db-tool-*`, e.g. a `database test` run's
 * tablespace) that the cluster of `dataDir` holds tablespaces in (`pg_tblspc/<oid>`
 * links). They go with the cluster: once it is wiped or removed, no server will ever
 * drop them, and the run that made them cannot reach a server to do so.
 */
export function ramTablespaceDirs(dataDir: string): string[] {
  const links = path.join(dataDir, 'pg_tblspc');
  let entries: string[];
  try {
    entries = fs.readdirSync(links);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    try {
      const target = fs.readlinkSync(path.join(links, entry));
      return path.dirname(target) === SHM && path.basename(target).startsWith(PREFIX) ? [target] : [];
    } catch {
      return [];
    }
  });
}

function isRamDir(dir: string): boolean {
  return path.dirname(dir) === SHM && path.basename(dir).startsWith(PREFIX);
}

/** Removes a RAM folder of ours (a path under /dev/shm/db-tool-*; anything else is refused). */
export function removeRamDir(dir: string): void {
  // The server account's folder: removed without following a link it put there.
  if (isRamDir(dir)) removeBelow(SHM, dir);
}

/**
 * Removes a cluster's RAM folder (made by linkRamDataDir) in a detached `rm`, so that a
 * run does not wait for thousands of files to go (about 40 ms a cluster). The folder is
 * handed over: its owner record names the rm, which deletes the data first and the
 * record last. A live rm's folder is left alone; a killed one's is a leftover of a dead
 * owner, which the next run clears.
 */
export function removeRamDirInBackground(config: { env: Readonly<Record<string, string>> }, dir: string): void {
  if (!isRamDir(dir)) return;
  const ownerFile = path.join(dir, OWNER_FILE);
  const pid = spawnDetachedScript(config, 'renice -n 19 $$ >/dev/null 2>&1; rm -rf -- "$1/data" && rm -rf -- "$1"', [dir]);
  if (pid === undefined) return removeRamDir(dir);
  try {
    const link = readBelow(SHM, ownerFile)?.split('\n')[1] ?? '';
    // Not made again once the rm has removed it.
    if (fs.existsSync(ownerFile)) writeBelow(SHM, ownerFile, `${formatIdentity(processIdentity(pid))}\n${link}\n`, 'rewrite');
  } catch {
    // the rm was quicker, or the record is not ours to rewrite: a leftover at worst
  }
}

/**
 * Making folders without `mkdirSync({ recursive: true })`: on paths the kernel will
 * never let us create (below /proc, /sys) Node's recursive mkdir loops at full CPU
 * forever, in a synchronous call no signal can interrupt. We walk up to the nearest
 * existing folder ourselves, check it, and create the missing levels one by one, so
 * an impossible path is one clear error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { errnoCause } from './fs-faults.js';

export interface MakeDirsOptions {
  /** Mode of the folders made (before the umask). */
  mode?: number;
}

/** The folders of `dir` that do not exist yet, outermost first, and the nearest one that does. */
function missingLevels(dir: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new EnvironmentError(`cannot create ${dir}: ${errnoCause(error)} at ${current}`);
    }
    if (stat) {
      if (!stat.isDirectory()) throw new EnvironmentError(`cannot create ${dir}: ${current} is not a folder`);
      return { existing: current, missing: missing.reverse() };
    }
    const parent = path.dirname(current);
    if (parent === current) throw new EnvironmentError(`cannot create ${dir}: no existing folder above it`);
    missing.push(current);
    current = parent;
  }
}

/**
 * `mkdir -p` that never spins: returns the folders it made (outermost first). A path
 * that cannot be made is an EnvironmentError naming the folder and the cause.
 */
export function makeDirs(dir: string, options: MakeDirsOptions = {}): string[] {
  const { existing, missing } = missingLevels(dir);
  const made: string[] = [];
  let parent = existing;
  for (const level of missing) {
    try {
      fs.mkdirSync(level, { mode: options.mode ?? 0o777 });
      made.push(level);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another run made it meanwhile: fine.
      if (code === 'EEXIST' && fs.statSync(level, { throwIfNoEntry: false })?.isDirectory()) {
        parent = level;
        continue;
      }
      const cause = code === 'ENOENT' ? 'folders cannot be created there' : errnoCause(error);
      throw new EnvironmentError(`cannot create ${dir}: ${cause} (in ${parent})`);
    }
    parent = level;
  }
  return made;
}

/** True when `a` and `b` both exist on one file system: a rename between them works. */
export function sameFileSystem(a: string, b: string): boolean {
  const device = fs.statSync(a, { throwIfNoEntry: false })?.dev;
  return device !== undefined && device === fs.statSync(b, { throwIfNoEntry: false })?.dev;
}

/**
 * True when no account but `uid` and root can change what `dir` holds: it and every
 * folder above it (links resolved) belong to `uid` or root, and no one else may write
 * in them, except in a sticky folder above it (/tmp), where others cannot rename or
 * remove what is not theirs.
 */
export function onlyChangeableBy(dir: string, uid: number): boolean {
  let current: string;
  try {
    current = fs.realpathSync(dir);
  } catch {
    return false;
  }
  for (let level = 0; ; level += 1) {
    const stat = fs.statSync(current, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || (stat.uid !== uid && stat.uid !== 0)) return false;
    const othersMayWrite = (stat.mode & 0o022) !== 0;
    const sticky = (stat.mode & 0o1000) !== 0;
    if (othersMayWrite && (level === 0 || !sticky)) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

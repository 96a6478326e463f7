/** Where the project is when LOCAL_DIR does not say: found the way git finds `.git`. */
import fs from 'node:fs';
import path from 'node:path';

/** What marks a project root: the folders the tool reads (`db/`) or makes (`focus/`). */
const PROJECT_MARKERS = ['db', 'focus'];

/**
 * The nearest folder at or above `start` that holds `db/` or `focus/`, found the way git
 * finds `.git`; undefined when none up to the root does.
 */
export function findProjectRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (PROJECT_MARKERS.some((marker) => fs.statSync(path.join(dir, marker), { throwIfNoEntry: false })?.isDirectory())) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

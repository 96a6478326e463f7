/**
 * Files the user names for output (`database diff -o FILE`, `--sql FILE`, `--rows-file
 * FILE`, `database test --junit FILE`). They are checked before a long run starts, as a
 * shell checks `> FILE` before the command runs, and a file that cannot be written is one
 * line naming it and the cause: the user's environment, not a bug of the tool.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { errnoCause } from './fs-faults.js';
import { shown } from './text.js';

/** The error of an output file that could not be written (`what`: "report", "JUnit report"…). */
export function unwritableFile(what: string, file: string, cause: unknown): EnvironmentError {
  const why = typeof cause === 'string' ? cause : (cause as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder' : errnoCause(cause);
  return new EnvironmentError(`cannot write the ${what} ${shown(file)}: ${why}`);
}

/** The file's status, or undefined when there is none at that path (also below a file). */
function statOf(what: string, file: string, target: string): fs.Stats | undefined {
  try {
    return fs.statSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unwritableFile(what, file, error);
  }
}

function assertAccess(what: string, file: string, target: string, mode: number): void {
  try {
    fs.accessSync(target, mode);
  } catch (error) {
    throw unwritableFile(what, file, error);
  }
}

/**
 * Throws when `file` cannot be written: a folder, a read-only or forbidden place, or a
 * missing folder above it (unless the writer makes its folders, `makesFolders`). Writes
 * nothing, so a run that fails later leaves an existing file as it was.
 */
export function assertWritableFile(what: string, file: string, options: { makesFolders?: boolean } = {}): void {
  const stat = statOf(what, file, file);
  if (stat?.isDirectory()) throw unwritableFile(what, file, 'it is a folder');
  if (stat) return assertAccess(what, file, file, fs.constants.W_OK);
  let dir = path.dirname(file);
  let dirStat = statOf(what, file, dir);
  while (!dirStat && options.makesFolders && path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
    dirStat = statOf(what, file, dir);
  }
  if (!dirStat) throw unwritableFile(what, file, `folder ${shown(dir)} does not exist`);
  if (!dirStat.isDirectory()) throw unwritableFile(what, file, `${shown(dir)} is not a folder`);
  assertAccess(what, file, dir, fs.constants.W_OK | fs.constants.X_OK);
}

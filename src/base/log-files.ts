/**
 * Log files as `database log` and `database diff log` offer them: a numbered listing,
 * one picked by index or name, and its text.
 */
import fs from 'node:fs';
import { BadInputError } from './errors.js';
import { readBelow } from './safe-files.js';

export interface LogFile {
  index: number;
  name: string;
  path: string;
  size: number;
  /**
   * The file is in a folder of the server account: read below this anchor, never
   * through a link (as root, a link there could show any file of root's).
   */
  anchor?: string;
  /** Who may own it there (the server account, and us). */
  owners?: number[];
}

/** One file by 1-based index, exact name or unique substring. */
export function selectLog(files: readonly LogFile[], selector: string, listCommand: string): LogFile {
  const hint = `run \`${listCommand}\` to see the files`;
  if (/^[0-9]+$/.test(selector)) {
    const file = files[Number(selector) - 1];
    if (!file) throw new BadInputError(`no log file with index ${selector} (there are ${files.length}); ${hint}`);
    return file;
  }
  const exact = files.find((file) => file.name === selector);
  if (exact) return exact;
  const matches = files.filter((file) => file.name.includes(selector));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length === 0) throw new BadInputError(`no log file matches '${selector}'; ${hint}`);
  throw new BadInputError(`'${selector}' matches ${matches.length} log files (${matches.map((f) => f.name).join(', ')}); be more specific or use an index`);
}

/** A log file's text ('' when it is gone, or no longer below its anchor). */
export function readLog(file: LogFile): string {
  if (file.anchor === undefined) return fs.readFileSync(file.path, 'utf8');
  return readBelow(file.anchor, file.path, { owners: file.owners ?? [] }) ?? '';
}

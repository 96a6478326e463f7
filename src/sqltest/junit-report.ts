/** The JUnit report of `database test --junit FILE`: checked before the run, written after it. */
import fs from 'node:fs';
import path from 'node:path';
import { assertWritableFile, unwritableFile } from '../base/output-files.js';
import { junitXml } from './junit.js';
import type { TestRunResult } from './test-runner.js';

/** The report's file (relative to `cwd`), refused before anything runs when it cannot be written. */
export function junitReportFile(cwd: string, given: string | undefined): string | undefined {
  if (!given) return undefined;
  const file = path.resolve(cwd, given);
  assertWritableFile('JUnit report', file, { makesFolders: true });
  return file;
}

/** A file's path relative to the project root (what CI reporters link to), else absolute. */
function projectPath(root: string, file: string): string {
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Writes the report next to nothing half-done: a temp file renamed over the target. Files are named relative to `root`. */
export function writeJunitReport(file: string, run: TestRunResult, root: string): void {
  const text = junitXml(run, (testFile) => projectPath(root, testFile));
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  } catch (error) {
    throw unwritableFile('JUnit report', file, error);
  }
}

/**
 * Core functions that came out of src/commands/ (issue 21 §1), tested as the library
 * functions they now are: choosing a log file, the test run's file list, its --jobs and
 * its JUnit report. No server needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../src/base/errors.js';
import { readLog, selectLog, type LogFile } from '../src/base/log-files.js';
import { junitReportFile, writeJunitReport } from '../src/sqltest/junit-report.js';
import { projectTestFiles } from '../src/sqltest/test-files.js';
import { testJobs, totalsOf, type TestRunResult } from '../src/sqltest/test-runner.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-moved-core-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function logFiles(names: readonly string[], folder = '/logs'): LogFile[] {
  return names.map((name, i) => ({ index: i + 1, name, path: path.join(folder, name), size: 0 }));
}

describe('selectLog', () => {
  const files = logFiles(['server.log', 'postgresql-2024-01-01_000000.log', 'postgresql-2024-01-02_000000.log']);

  it('picks by 1-based index, exact name, or a unique part of a name', () => {
    expect(selectLog(files, '2', 'database log list').name).toBe('postgresql-2024-01-01_000000.log');
    expect(selectLog(files, 'server.log', 'database log list').index).toBe(1);
    expect(selectLog(files, '01-02', 'database log list').index).toBe(3);
  });

  it('refuses an index out of range, no match, and an ambiguous part, naming the listing command', () => {
    expect(() => selectLog(files, '4', 'database log list')).toThrow(new BadInputError('no log file with index 4 (there are 3); run `database log list` to see the files'));
    expect(() => selectLog(files, '0', 'database diff log list')).toThrow(/no log file with index 0 .*`database diff log list`/);
    expect(() => selectLog(files, 'nothing', 'database log list')).toThrow(/no log file matches 'nothing'/);
    expect(() => selectLog(files, 'postgresql', 'database log list')).toThrow(/'postgresql' matches 2 log files \(postgresql-2024-01-01_000000\.log, postgresql-2024-01-02_000000\.log\)/);
  });

  it('reads a file without an anchor as it is', () => {
    const [file] = logFiles(['server.log'], dir);
    fs.writeFileSync(file!.path, 'LOG:  ready\n');
    expect(readLog(file!)).toBe('LOG:  ready\n');
  });
});

describe('projectTestFiles', () => {
  it('takes $DATABASE_DIR/test/ when no path is given, and paths relative to cwd', () => {
    fs.mkdirSync(path.join(dir, 'db', 'test', 'sub'), { recursive: true });
    for (const file of ['b.sql', 'a.sql', 'sub/c.sql', 'notes.txt']) fs.writeFileSync(path.join(dir, 'db', 'test', file), '');
    const config = { databaseDir: path.join(dir, 'db'), cwd: path.join(dir, 'db') };
    expect(projectTestFiles(config).map((file) => path.relative(dir, file))).toEqual(['db/test/a.sql', 'db/test/b.sql', 'db/test/sub/c.sql']);
    expect(projectTestFiles(config, ['test/sub']).map((file) => path.relative(dir, file))).toEqual(['db/test/sub/c.sql']);
  });

  it('needs DATABASE_DIR only when no path is given', () => {
    fs.writeFileSync(path.join(dir, 'one.sql'), '');
    expect(() => projectTestFiles({ databaseDir: undefined, cwd: dir })).toThrow(/DATABASE_DIR is not set/);
    expect(projectTestFiles({ databaseDir: undefined, cwd: dir }, ['one.sql'])).toEqual([path.join(dir, 'one.sql')]);
  });
});

describe('testJobs', () => {
  it('is the number given, else the number of CPUs', () => {
    expect(testJobs(3)).toBe(3);
    expect(testJobs(undefined)).toBe(os.availableParallelism());
  });

  it('refuses anything but a whole number of at least 1, saying what it got', () => {
    for (const jobs of [0, -2, 1.5, Number.NaN]) expect(() => testJobs(jobs)).toThrow(new BadInputError(`--jobs must be a whole number of at least 1, not ${jobs}`));
  });
});

describe('the JUnit report', () => {
  const run: TestRunResult = { files: [], isolation: { kind: 'target', reason: 'test' }, totals: totalsOf([]), durationMs: 1, ok: true };

  it('is resolved against cwd and checked before the run, nothing asked: none', () => {
    expect(junitReportFile(dir, undefined)).toBeUndefined();
    expect(junitReportFile(dir, 'reports/junit.xml')).toBe(path.join(dir, 'reports', 'junit.xml'));
    fs.writeFileSync(path.join(dir, 'file'), '');
    expect(() => junitReportFile(dir, 'file/junit.xml')).toThrow(/JUnit report/);
  });

  it('is written whole, its folder made, no temp file left', () => {
    const file = path.join(dir, 'reports', 'junit.xml');
    writeJunitReport(file, run, dir);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^<\?xml[^]*<testsuites/);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['junit.xml']);
  });
});

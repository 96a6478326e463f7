/**
 * Errors by kind → the exit codes of SPEC §10 (src/cli/exit-codes.ts), and the check of
 * output files the user names (src/base/output-files.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AmbiguousError,
  BadInputError,
  BuildFailedError,
  EnvironmentError,
  InternalError,
  InterruptedError,
  MigrationFailedError,
  MissingInputError,
  MissingProgramError,
  MissingTableError,
  ProgramFailedError,
  ServerStartError,
  SqlFailedError,
  UnreachableError,
} from '../src/base/errors.js';
import { assertWritableFile, unwritableFile } from '../src/base/output-files.js';
import { PlantedFileError } from '../src/base/safe-files.js';
import { diffExitCodeFor, exitCodeFor } from '../src/cli/exit-codes.js';
import { typedError } from '../src/cli/run.js';
import type { MigrationStep } from '../src/migrations/migration-plan.js';
import { MigrationRunError } from '../src/migrations/migration-runner.js';
import { SqlError } from '../src/pg/psql.js';

describe('exitCodeFor', () => {
  it('gives every kind of error the code SPEC §10 documents', () => {
    const cases: Array<[Error, number]> = [
      [new BadInputError('malformed PostgreSQL URL'), 1],
      [new SqlFailedError('hydrate failed'), 1],
      [new UnreachableError('cannot connect'), 1],
      [new EnvironmentError('no space left on device'), 1],
      [new ProgramFailedError('pg_basebackup failed'), 1],
      [new AmbiguousError('two commands'), 2],
      [new ServerStartError('server failed to start'), 2],
      [new BuildFailedError('DB2 (sources) could not be built'), 2],
      [new MissingInputError('DB_URL is not set'), 3],
      [new MigrationFailedError('migration failed'), 4],
      [new MissingTableError('no table x'), 5],
      [new InternalError('bundle version conflict'), 13],
      [new MissingProgramError('pg_dump not found'), 127],
      [new InterruptedError('SIGINT'), 130],
      [new InterruptedError('SIGTERM'), 143],
    ];
    expect(cases.map(([error, code]) => [error.constructor.name, exitCodeFor(error), code])).toEqual(cases.map(([error, code]) => [error.constructor.name, code, code]));
  });

  it('gives the specialised errors their kind’s code', () => {
    expect(exitCodeFor(new SqlError('test a.sql', { where: 'a.sql:1: boom', location: undefined, details: undefined }))).toBe(1);
    expect(exitCodeFor(new PlantedFileError('refusing'))).toBe(2);
    expect(exitCodeFor(new MigrationRunError('failed', undefined, { direction: 'up', name: '20260101000000-a', file: 'up.sql' } as MigrationStep, [], ''))).toBe(4);
  });

  it('treats anything that is not one of ours as a bug (13)', () => {
    expect(exitCodeFor(new TypeError('x is undefined'))).toBe(13);
    expect(exitCodeFor('a string')).toBe(13);
    expect(exitCodeFor(undefined)).toBe(13);
  });

  it('keeps diff’s 1 for differences: what would be 1 is 2, every other code stays', () => {
    for (const error of [new BadInputError('x'), new SqlFailedError('x'), new UnreachableError('x'), new EnvironmentError('x'), new ProgramFailedError('x')]) {
      expect(diffExitCodeFor(error)).toBe(2);
    }
    expect(diffExitCodeFor(new MissingInputError('no backup'))).toBe(3);
    expect(diffExitCodeFor(new MigrationFailedError('x'))).toBe(4);
    expect(diffExitCodeFor(new MissingTableError('x'))).toBe(5);
    expect(diffExitCodeFor(new InternalError('x'))).toBe(13);
    expect(diffExitCodeFor(new MissingProgramError('x'))).toBe(127);
    expect(diffExitCodeFor(new InterruptedError('SIGTERM'))).toBe(143);
  });

  it('types the fs faults of our own calls: a full disk is the environment, a bad path bad input', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/data/x/file' });
    const loop = Object.assign(new Error('ELOOP'), { code: 'ELOOP', path: '/p/loop' });
    expect(typedError(full)).toBeInstanceOf(EnvironmentError);
    expect((typedError(full) as Error).message).toBe('no space left on device in /data/x');
    expect(typedError(loop)).toBeInstanceOf(BadInputError);
    const other = new RangeError('x');
    expect(typedError(other)).toBe(other);
  });
});

describe('assertWritableFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-output-files-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a new file in a folder, an existing file (left as it is), and /dev/null', () => {
    const existing = path.join(dir, 'report.txt');
    fs.writeFileSync(existing, 'previous');
    expect(() => assertWritableFile('report', path.join(dir, 'new.txt'))).not.toThrow();
    expect(() => assertWritableFile('report', existing)).not.toThrow();
    expect(fs.readFileSync(existing, 'utf8')).toBe('previous');
    expect(fs.existsSync(path.join(dir, 'new.txt'))).toBe(false);
    expect(() => assertWritableFile('report', '/dev/null')).not.toThrow();
  });

  it('refuses a folder, a missing folder, and a file taken for a folder, naming the file and why', () => {
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, '');
    const refusal = (file: string, options?: { makesFolders?: boolean }): string => {
      try {
        assertWritableFile('report', file, options);
      } catch (error) {
        expect(error).toBeInstanceOf(EnvironmentError);
        return (error as Error).message;
      }
      throw new Error(`expected ${file} to be refused`);
    };
    expect(refusal(dir)).toBe(`cannot write the report ${dir}: it is a folder`);
    expect(refusal(path.join(dir, 'no', 'such', 'r.txt'))).toBe(`cannot write the report ${dir}/no/such/r.txt: folder ${dir}/no/such does not exist`);
    expect(refusal(path.join(plain, 'r.txt'))).toBe(`cannot write the report ${plain}/r.txt: ${plain} is not a folder`);
    expect(refusal(path.join(plain, 'a', 'r.txt'), { makesFolders: true })).toBe(`cannot write the report ${plain}/a/r.txt: ${plain} is not a folder`);
  });

  it('accepts missing folders when the writer makes them', () => {
    expect(() => assertWritableFile('JUnit report', path.join(dir, 'reports', 'nested', 'junit.xml'), { makesFolders: true })).not.toThrow();
  });

  it('says the errno cause of a write that failed', () => {
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    const isDir = Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    expect(unwritableFile('rows file', '/r/rows.diff', denied).message).toBe('cannot write the rows file /r/rows.diff: permission denied');
    expect(unwritableFile('report', '/r', isDir).message).toBe('cannot write the report /r: it is a folder');
  });
});

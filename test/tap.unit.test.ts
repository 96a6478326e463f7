/** TAP parsing and the summary line of `database test`; where hydrate/patch output goes. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stepOutputFile } from '../src/build/user-sql.js';
import { loadConfig } from '../src/base/config.js';
import { readDotenvFile } from '../src/build/dotenv-file.js';
import { failingTests, formatTapSummary, parseTap } from '../src/build/tap.js';
import { makeTempDir } from './helpers/env.js';

describe('parseTap', () => {
  it('counts ok and not ok lines, with and without numbers and descriptions', () => {
    const report = parseTap('TAP version 13\n1..4\nok 1 - first\nnot ok 2 - second\nok\nok 4 third\n');
    expect(report.tests.map((t) => [t.ok, t.number, t.description])).toEqual([
      [true, 1, 'first'],
      [false, 2, 'second'],
      [true, 3, ''],
      [true, 4, 'third'],
    ]);
    expect(report).toMatchObject({ passed: 3, failed: 1, skipped: 0, todo: 0, problems: [], ok: false });
    expect(failingTests(report).map((t) => t.line)).toEqual([4]);
  });

  it('TODO and SKIP directives (any case, SKIP prefixes) never fail the stream', () => {
    const report = parseTap([
      'not ok 1 - later # TODO not written yet',
      'ok 2 - fixed early # todo',
      'not ok 3 - no db # SKIP no database',
      'ok 4 # skipped: platform',
      '1..4',
    ].join('\n'));
    expect(report).toMatchObject({ passed: 0, failed: 0, skipped: 2, todo: 2, ok: true });
    expect(report.tests[0]?.reason).toBe('not written yet');
    expect(report.tests[3]?.reason).toBe('platform');
  });

  it('a # that is no directive, or escaped, stays part of the description', () => {
    const report = parseTap('ok 1 - issue \\# 12 # TODO x\nnot ok 2 - colour # ff0000\n');
    expect(report.tests[0]).toMatchObject({ description: 'issue # 12', directive: 'todo' });
    expect(report.tests[1]).toMatchObject({ description: 'colour', directive: undefined, ok: false });
    expect(report.failed).toBe(1);
  });

  it('a plan that disagrees with the count fails; a plan at the end is fine', () => {
    expect(parseTap('1..3\nok 1\nok 2\n')).toMatchObject({ ok: false, problems: ['planned 3 tests (1..3) but 2 ran'] });
    expect(parseTap('ok 1\nok 2\n1..2\n').ok).toBe(true);
    expect(parseTap('1..1\nok 1\n1..1\n').problems).toContain('2 plans in one stream');
  });

  it('1..0 # SKIP skips the whole stream', () => {
    const report = parseTap('1..0 # SKIP no pgTAP here\n');
    expect(report.plan).toEqual({ count: 0, skipAll: 'no pgTAP here' });
    expect(report.ok).toBe(true);
  });

  it('Bail out! fails the stream', () => {
    const report = parseTap('1..3\nok 1\nBail out! lost the database\n');
    expect(report.bailOut).toBe('lost the database');
    expect(report.problems).toEqual(['Bail out! lost the database']);
    expect(report.ok).toBe(false);
  });

  it('ignores comments, indented subtest and YAML lines, CRLF, and words starting with ok', () => {
    const report = parseTap('# a comment\r\n    not ok 1 - inside a subtest\r\n  ---\r\n  message: x\r\n  ...\r\nokay then\r\nok 1 - outer\r\n');
    expect(report.tests).toHaveLength(1);
    expect(report.ok).toBe(true);
  });

  it('no TAP at all passes (the file may only assert with errors)', () => {
    expect(parseTap('')).toMatchObject({ tests: [], plan: undefined, ok: true });
  });
});

describe('formatTapSummary', () => {
  it('says PASS or FAIL and only the counts that are not zero', () => {
    expect(formatTapSummary({ files: 1, passed: 8, failed: 0, skipped: 0, todo: 0, brokenFiles: 0, ok: true })).toBe('PASS: 8 passed (1 file)');
    expect(formatTapSummary({ files: 2, passed: 5, failed: 1, skipped: 2, todo: 1, brokenFiles: 1, ok: false })).toBe(
      'FAIL: 5 passed, 1 failed, 2 skipped, 1 todo, 1 file with errors (2 files)',
    );
  });
});

describe('hydrate and patch output', () => {
  it('HYDRATE_LOG / PATCH_LOG, else $PG_LOG_PATH/<step>.stdout.log, else stdout', () => {
    const both = loadConfig({ HYDRATE_LOG: 'h.log', PATCH_LOG: '/abs/p.log', PG_LOG_PATH: '/logs' }, '/work');
    expect(stepOutputFile(both, 'hydrate')).toBe('/work/h.log');
    expect(stepOutputFile(both, 'patch')).toBe('/abs/p.log');
    const logPath = loadConfig({ PG_LOG_PATH: '/logs' }, '/work');
    expect(stepOutputFile(logPath, 'hydrate')).toBe('/logs/hydrate.stdout.log');
    expect(stepOutputFile(logPath, 'patch')).toBe('/logs/patch.stdout.log');
    expect(stepOutputFile(loadConfig({}, '/work'), 'hydrate')).toBeUndefined();
  });
});

describe('readDotenvFile', () => {
  const dir = makeTempDir('db-tool-dotenv-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads HECTIC_DOTENV_FILE, else $LOCAL_DIR/.env.$ENVIRONMENT; says whether a missing file was asked for', () => {
    fs.writeFileSync(path.join(dir, '.env.ci'), 'A=1\n');
    expect(readDotenvFile(loadConfig({ LOCAL_DIR: dir, ENVIRONMENT: 'ci' }, '/'))).toEqual({
      kind: 'found',
      file: { path: path.join(dir, '.env.ci'), text: 'A=1\n' },
    });
    expect(readDotenvFile(loadConfig({ LOCAL_DIR: dir }, '/'))).toEqual({ kind: 'none' });
    expect(readDotenvFile(loadConfig({ LOCAL_DIR: dir, ENVIRONMENT: 'prod' }, '/'))).toMatchObject({ kind: 'unreadable', explicit: false });
    expect(readDotenvFile(loadConfig({ HECTIC_DOTENV_FILE: path.join(dir, 'nope') }, '/'))).toMatchObject({ kind: 'unreadable', explicit: true, reason: 'ENOENT' });
  });
});

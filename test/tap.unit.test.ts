/** TAP parsing and the report lines of `database test`; where hydrate/patch output goes. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stepOutputFile } from '../src/deploy/user-sql.js';
import { loadConfig } from '../src/base/config.js';
import { readDotenvFile } from '../src/deploy/dotenv-file.js';
import { failingTests, parseTap, passingTodos } from '../src/sqltest/tap.js';
import { formatCounts, formatSummaryLine, numberRanges } from '../src/cli/render/test-report.js';
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

  it('like pg_prove: tests without a plan, a plan between tests and numbers out of sequence fail', () => {
    expect(parseTap('ok 1\nok 2\n')).toMatchObject({ ok: false, problems: ['no plan (1..2): a stream must say how many tests it runs'] });
    // tap-parser passes this one and counts only one test.
    const middle = parseTap('ok 1\n1..2\nok 2\n');
    expect(middle.tests).toHaveLength(2);
    expect(middle.problems).toEqual(['the plan 1..2 must come before the first test or after the last one']);
    expect(parseTap('1..2\nok 2\nok 1\n').problems).toEqual(['test 2 out of sequence (expected 1)']);
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

  it('a passing TODO is counted and listed', () => {
    const report = parseTap('1..2\nok 1 - fixed # TODO not yet\nnot ok 2 - later # TODO not yet\n');
    expect(report).toMatchObject({ ok: true, todo: 2, todoPassed: 1, passed: 0, failed: 0 });
    expect(passingTodos(report).map((t) => t.number)).toEqual([1]);
  });

  it("reads pgTAP's runtests() output: subtests close with a test point, diagnostics stay with their test", () => {
    const report = parseTap([
      '    # Subtest: public.test_insert()',
      '    ok 1 - one widget',
      '    not ok 2 - deliberately failing',
      '    # Failed test 2: "deliberately failing"',
      '    #         have: 2',
      '    #         want: 3',
      '    1..2',
      '    # Looks like you failed 1 tests of 2',
      'not ok 1 - public.test_insert',
      '# Failed test 1: "public.test_insert"',
      '    # Subtest: public.test_table()',
      '    ok 1 - widget exists',
      '    1..1',
      'ok 2 - public.test_table',
      '1..2',
      '# Looks like you failed 1 test of 2',
    ].join('\n'));
    expect(report).toMatchObject({ passed: 1, failed: 1, problems: [], ok: false });
    const [first, second] = report.tests;
    expect(first?.subtest?.name).toBe('public.test_insert()');
    expect(first?.subtest?.report).toMatchObject({ passed: 1, failed: 1 });
    expect(first?.subtest?.report.tests[1]?.diagnostics).toEqual(['# Failed test 2: "deliberately failing"', '#         have: 2', '#         want: 3']);
    expect(first?.diagnostics).toEqual(['# Failed test 1: "public.test_insert"']);
    expect(first?.subtest?.text.split('\n')[0]).toBe('# Subtest: public.test_insert()');
    expect(second).toMatchObject({ ok: true, number: 2, diagnostics: [] });
    expect(second?.subtest?.report.ok).toBe(true);
  });

  it('TAP 14: a subtest that fails under an `ok` test point fails the stream; a bail out inside one bails out', () => {
    const lying = parseTap('TAP version 14\n1..1\n# Subtest: x\n    1..1\n    not ok 1 - inner\nok 1 - x\n');
    expect(lying.tests[0]?.subtest?.name).toBe('x');
    expect(lying.problems).toEqual(['test 1 - x says ok but its subtest failed']);
    const bail = parseTap('TAP version 14\n1..2\n# Subtest: x\n    Bail out! inner trouble\nok 1 - x\nok 2\n');
    expect(bail).toMatchObject({ bailOut: 'inner trouble', ok: false });
  });

  it('keeps a YAML block as the diagnostics of the test before it, and counts nothing in it', () => {
    const report = parseTap('TAP version 13\n1..2\nnot ok 1 - y\n  ---\n  message: boom\n  got:\n    - ok 7\n  ...\nok 2\n');
    expect(report).toMatchObject({ passed: 1, failed: 1, problems: [] });
    expect(report.tests[0]?.diagnostics).toEqual(['---', 'message: boom', 'got:', '  - ok 7', '...']);
  });

  it('pragma +strict makes a non-TAP line fail the stream; -strict turns it off again', () => {
    expect(parseTap('TAP version 13\npragma +strict\n1..1\nok 1\ngarbage here\n').problems).toEqual(['line 5 is not TAP (pragma +strict): garbage here']);
    expect(parseTap('pragma +strict\npragma -strict\n1..1\nok 1\ngarbage here\n').ok).toBe(true);
    expect(parseTap('1..1\nok 1\ngarbage here\n\n').ok).toBe(true);
  });

  it('ignores comments, CRLF, blank lines and words starting with ok; an indented block no test point closes is not counted', () => {
    const report = parseTap('# a comment\r\n    not ok 1 - inside a subtest\r\n  ---\r\n  message: x\r\n  ...\r\nokay then\r\n\r\n1..1\r\nok 1 - outer\r\n');
    expect(report.tests).toHaveLength(1);
    expect(report.ok).toBe(true);
  });

  it('no TAP at all passes (the file may only assert with errors)', () => {
    expect(parseTap('')).toMatchObject({ tests: [], plan: undefined, ok: true });
  });
});

describe('report lines', () => {
  it('the summary says PASS or FAIL and only the counts that are not zero, without an error: prefix', () => {
    const totals = { files: 1, passed: 8, failed: 0, skipped: 0, todo: 0, todoPassed: 0, brokenFiles: 0, failedFiles: 0, ok: true };
    expect(formatSummaryLine(totals)).toBe('PASS: 8 passed (1 file)');
    expect(formatSummaryLine({ files: 2, passed: 5, failed: 1, skipped: 2, todo: 2, todoPassed: 1, brokenFiles: 1, failedFiles: 2, ok: false }, 1234)).toBe(
      'FAIL: 5 passed, 1 failed, 2 skipped, 2 todo (1 passing), 1 file with errors (2 files, 1.23 s)',
    );
    expect(formatCounts({ passed: 0, failed: 0, skipped: 0, todo: 0, todoPassed: 0 })).toBe('0 passed');
  });

  it('lists test numbers in ranges, like pg_prove', () => {
    expect(numberRanges([5, 1, 2, 3, 7, 8, 3])).toBe('1-3, 5, 7-8');
    expect(numberRanges([4])).toBe('4');
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
    expect(readDotenvFile(loadConfig({ HECTIC_DOTENV_FILE: path.join(dir, 'nope') }, '/'))).toMatchObject({ kind: 'unreadable', explicit: true, reason: 'no such file or folder' });
  });
});

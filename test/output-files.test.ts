/**
 * Output files the user names (`database diff -o/--sql/--rows-file FILE`, `database test
 * --junit FILE`) that cannot be written: one line naming the file and the cause, the exit
 * code of an environment problem (diff: 2, since its 1 means differences; test: 1), and
 * nothing started — not 13, "program bug", after the whole run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { createDatabase } from './helpers/project.js';

let scratch: string;
/** A plain file: a path below it cannot be written. */
let plainFile: string;

beforeAll(() => {
  scratch = makeTempDir('db-tool-output-files-');
  plainFile = path.join(scratch, 'plain');
  fs.writeFileSync(plainFile, 'not a folder\n');
});

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** stderr's lines, without blank ones. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

describe('database diff: an output file that cannot be written', () => {
  let project: string;
  beforeAll(() => {
    project = path.join(scratch, 'diff-project');
    fs.mkdirSync(path.join(project, 'db'), { recursive: true });
  });

  function diff(args: string[]) {
    return runBin('database', ['diff', ...args], { env: { LOCAL_DIR: project }, cwd: project });
  }

  const cases: Array<{ option: string; what: string; target: () => string; cause: () => string }> = [
    { option: '-o', what: 'report', target: () => scratch, cause: () => 'it is a folder' },
    { option: '--output', what: 'report', target: () => path.join(plainFile, 'report.txt'), cause: () => `${plainFile} is not a folder` },
    { option: '--sql', what: 'up.sql', target: () => path.join(scratch, 'missing', 'up.sql'), cause: () => `folder ${path.join(scratch, 'missing')} does not exist` },
    { option: '--rows-file', what: 'rows file', target: () => path.join(plainFile, 'rows.diff'), cause: () => `${plainFile} is not a folder` },
  ];

  for (const { option, what, target, cause } of cases) {
    it(`${option}: exit 2 with one line naming the file and the cause, before anything starts`, async () => {
      const result = await diff([option, target()]);
      expect(result.code).toBe(2);
      expect(lines(result.stderr)).toEqual([expect.stringContaining(`cannot write the ${what} ${target()}: ${cause()}`)]);
      expect(result.stderr).not.toMatch(/unexpected|at .*\.js:\d+/);
      // Checked first: no run folder, no backup lookup (this project has no backup, which would be exit 3).
      expect(fs.existsSync(path.join(project, 'focus'))).toBe(false);
    });
  }

  it('--json: the failure is the JSON document on stdout, with the same code', async () => {
    const rows = path.join(plainFile, 'rows.diff');
    const result = await diff(['--json', '--rows-file', rows]);
    expect(result.code).toBe(2);
    const document = JSON.parse(result.stdout) as { ok: boolean; error: { code: number; message: string } };
    expect(document.ok).toBe(false);
    expect(document.error.code).toBe(2);
    expect(document.error.message).toBe(`cannot write the rows file ${rows}: ${plainFile} is not a folder`);
  });
});

describe('database test --junit: a report that cannot be written', () => {
  let cluster: TestCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startTestCluster();
    url = await createDatabase(cluster.url, 'junit_unwritable');
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('exits 1 with one line naming the file and the cause, before any test file runs', async () => {
    const ran = path.join(scratch, 'test-ran');
    const testFile = path.join(scratch, 'tests', 'marks.sql');
    fs.mkdirSync(path.dirname(testFile), { recursive: true });
    // Leaves a mark when it runs: the report's check must come first.
    fs.writeFileSync(testFile, `\\! touch ${ran}\n\\echo 1..1\nSELECT 'ok 1 - ran';\n`);
    const report = path.join(plainFile, 'reports', 'junit.xml');
    const result = await runBin('database', ['test', '--junit', report, testFile], { env: { LOCAL_DIR: scratch, PGURL: url }, cwd: scratch });
    expect(result.code).toBe(1);
    const errors = lines(result.stderr).filter((line) => !line.startsWith('target:') && !/^info\b/.test(line));
    expect(errors).toEqual([expect.stringContaining(`cannot write the JUnit report ${report}: ${plainFile} is not a folder`)]);
    expect(fs.existsSync(ran)).toBe(false);
  });

  it('a folder given as the report is refused the same way', async () => {
    const testFile = path.join(scratch, 'tests', 'passes.sql');
    fs.mkdirSync(path.dirname(testFile), { recursive: true });
    fs.writeFileSync(testFile, "\\echo 1..1\nSELECT 'ok 1 - fine';\n");
    const result = await runBin('database', ['test', '--junit', scratch, testFile], { env: { LOCAL_DIR: scratch, PGURL: url }, cwd: scratch });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot write the JUnit report ${scratch}: it is a folder`);
  });
});

/**
 * `database test` against a real PostgreSQL: the default file, given files, TAP
 * verdicts (not ok, TODO/SKIP, plan mismatch, bail out), SQL errors, missing files,
 * the summary line and --inherits. The target comes from $PGURL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { copyProject, createDatabase, type Project } from './helpers/project.js';

let cluster: TestCluster;
let project: Project;
let scratch: string;
let url: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  project = copyProject('deploy-project');
  scratch = makeTempDir('db-tool-dbtest-');
  url = await createDatabase(cluster.url, 'dbtest');
  const hydrated = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: project.dir } });
  if (hydrated.code !== 0) throw new Error(`hydrate failed: ${hydrated.stderr}`);
});

afterAll(async () => {
  await cluster?.stop();
  project?.remove();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function testFile(name: string, sql: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, sql);
  return file;
}

function dbTest(args: string[], env: Record<string, string> = {}) {
  return runBin('database', ['test', ...args], { env: { LOCAL_DIR: project.dir, PGURL: url, ...env }, cwd: scratch });
}

describe('database test', () => {
  it('runs $DATABASE_DIR/test/test.sql by default: TAP on stdout, PASS summary on stderr', async () => {
    const result = await dbTest([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1..2\nok 1 - items table exists\nok 2 - two colours\n');
    expect(result.stderr).toContain('PASS: 2 passed (1 file)');
  });

  it('a `not ok` line fails the run (exit 1) and is named on stderr', async () => {
    const file = testFile('fails.sql', "\\echo 1..3\nSELECT 'ok 1 - first';\nSELECT 'not ok 2 - second';\nSELECT 'ok 3 - third';\n");
    const result = await dbTest([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not ok 2 - second');
    expect(result.stderr).toContain('not ok 2 - second');
    expect(result.stderr).toContain('FAIL: 2 passed, 1 failed (1 file)');
  });

  it('`not ok … # TODO` and `# SKIP` do not fail the run', async () => {
    const file = testFile('todo.sql', [
      '\\echo 1..3',
      "SELECT 'ok 1 - works';",
      "SELECT 'not ok 2 - not yet # TODO write the feature';",
      "SELECT 'ok 3 - needs a secret # SKIP no dotenv';",
      '',
    ].join('\n'));
    const result = await dbTest([file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('PASS: 1 passed, 1 skipped, 1 todo (1 file)');
  });

  it('a plan that disagrees with the tests that ran fails the run', async () => {
    const file = testFile('plan.sql', "\\echo 1..3\nSELECT 'ok 1 - one';\nSELECT 'ok 2 - two';\n");
    const result = await dbTest([file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('planned 3 tests (1..3) but 2 ran');
  });

  it('Bail out! fails the run', async () => {
    const file = testFile('bail.sql', "SELECT 'ok 1 - one';\n\\echo 'Bail out! database is empty'\n");
    const result = await dbTest([file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Bail out! database is empty');
  });

  it('an SQL error → exit 1 with file:line; the TAP printed before it is kept', async () => {
    const file = testFile('sqlerror.sql', "SELECT 'ok 1 - before';\nSELECT * FROM app.nope;\nSELECT 'ok 2 - after';\n");
    const result = await dbTest([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ok 1 - before');
    expect(result.stdout).not.toContain('ok 2 - after');
    expect(result.stderr).toContain(`${file}:2`);
    expect(result.stderr).toContain('FAIL');
  });

  it('runs every file given (relative to the current directory) and sums them up', async () => {
    testFile('a.sql', "SELECT 'ok 1 - a';\n");
    testFile('b.sql', "\\echo 1..2\nSELECT 'ok 1 - b1';\nSELECT 'ok 2 - b2';\n");
    const result = await dbTest(['a.sql', 'b.sql']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('ok 1 - a\n1..2\nok 1 - b1\nok 2 - b2\n');
    expect(result.stderr).toContain('PASS: 3 passed (2 files)');
  });

  it('a failing file does not stop the others', async () => {
    testFile('bad.sql', "SELECT 'not ok 1 - bad';\n");
    testFile('good.sql', "SELECT 'ok 1 - good';\n");
    const result = await dbTest(['bad.sql', 'good.sql']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ok 1 - good');
    expect(result.stderr).toContain('FAIL: 1 passed, 1 failed (2 files)');
  });

  it('a missing file → exit 1 with its path, and nothing runs', async () => {
    testFile('runs.sql', "SELECT 'ok 1 - should not run';\n");
    const result = await dbTest(['runs.sql', 'missing.sql']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(scratch, 'missing.sql'));
    expect(result.stdout).toBe('');
    const noDefault = await dbTest([], { DATABASE_DIR: path.join(scratch, 'nodb') });
    expect(noDefault.code).toBe(1);
    expect(noDefault.stderr).toContain(path.join(scratch, 'nodb', 'test', 'test.sql'));
  });

  it('-i/--inherits checks the target before running: a missing table → exit 5', async () => {
    const ok = await dbTest(['-i', 'app.item']);
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await dbTest(['-i', 'app.item', '-i', 'ghost']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('ghost');
    expect(missing.stdout).toBe('');
  });
});

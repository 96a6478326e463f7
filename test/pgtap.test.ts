/**
 * pgTAP works unchanged in `database test`, and its verdicts are pg_prove's: real pgTAP
 * files (plan, has_table, results_eq, throws_ok, todo, skip, runtests() in xUnit style, a
 * failing test, a bad plan) run through both on the same database, and the pass/fail of
 * every file, the failing and TODO-passing test numbers and the exit codes must agree.
 * Needs pgTAP and pg_prove (Debian: postgresql-15-pgtap, libtap-parser-sourcehandler-pgtap-perl;
 * .ci/run installs them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, runProgram, type CliResult } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { copyProject, createDatabase, withDb, type Project } from './helpers/project.js';

const FILES: Record<string, string> = {
  'plan.sql': `
BEGIN;
SELECT plan(5);
SELECT has_table('app', 'item', 'app.item exists');
SELECT has_table('app', 'colour', 'app.colour exists');
SELECT results_eq('SELECT name FROM app.colour ORDER BY name', ARRAY['green', 'red'], 'the hydrated colours');
SELECT throws_ok('SELECT 1/0', '22012', 'division by zero', 'dividing by zero throws');
SELECT throws_ok($$INSERT INTO app.colour (name) VALUES ('blue')$$, NULL, NULL, 'colours are immutable');
SELECT * FROM finish();
ROLLBACK;
`,
  'todo-skip.sql': `
BEGIN;
SELECT plan(4);
SELECT ok(true, 'works');
SELECT todo('blue is not there yet', 2);
SELECT is((SELECT count(*)::int FROM app.colour), 3, 'three colours');
SELECT is(1, 1, 'already done');
SELECT skip('no secrets in tests', 1);
SELECT * FROM finish();
ROLLBACK;
`,
  'xunit-pass.sql': `
BEGIN;
CREATE FUNCTION app.test_items_empty() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT is((SELECT count(*)::int FROM app.item), 0, 'no items yet')
$$;
CREATE FUNCTION app.test_colours() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT bag_eq('SELECT name FROM app.colour', ARRAY['red', 'green'], 'red and green')
$$;
SELECT * FROM runtests('app'::name, '^test_');
ROLLBACK;
`,
  'xunit-fail.sql': `
BEGIN;
CREATE FUNCTION app.test_insert() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.item (name) VALUES ('one');
  RETURN NEXT is((SELECT count(*)::int FROM app.item), 1, 'one item');
  RETURN NEXT is((SELECT count(*)::int FROM app.item), 2, 'deliberately wrong');
END
$$;
CREATE FUNCTION app.test_table() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT has_table('app', 'item', 'app.item exists')
$$;
SELECT * FROM runtests('app'::name, '^test_');
ROLLBACK;
`,
  'failing.sql': `
BEGIN;
SELECT plan(3);
SELECT ok(true, 'fine');
SELECT is(1, 2, 'one is two');
SELECT isnt(1, 1, 'one is not one');
SELECT * FROM finish();
ROLLBACK;
`,
  'bad-plan.sql': `
BEGIN;
SELECT plan(3);
SELECT ok(true, 'one');
SELECT ok(true, 'two');
SELECT * FROM finish();
ROLLBACK;
`,
};

let cluster: TestCluster;
let project: Project;
let url: string;
let dir: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  project = copyProject('deploy-project');
  url = await createDatabase(cluster.url, 'pgtap');
  const hydrated = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: project.dir } });
  if (hydrated.code !== 0) throw new Error(`hydrate failed: ${hydrated.stderr}`);
  await withDb(url, (client) => client.query('CREATE EXTENSION pgtap'));
  dir = path.join(project.dir, 'db', 'test', 'pgtap');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, sql] of Object.entries(FILES)) fs.writeFileSync(path.join(dir, name), sql);
});

afterAll(async () => {
  await cluster?.stop();
  project?.remove();
});

function ours(args: string[]): Promise<CliResult> {
  return runBin('database', ['test', ...args], { env: { LOCAL_DIR: project.dir, PGURL: url }, cwd: dir });
}

function pgProve(args: string[]): Promise<CliResult> {
  const params = parse(url);
  const connection = ['-h', params.host ?? '', '-p', params.port ?? '5432', '-U', params.user ?? '', '-d', params.database ?? ''];
  return runProgram('pg_prove', [...connection, ...args], { cwd: dir });
}

/** `Failed tests: 1, 3` / `TODO passed: 4` of one file in a summary report (pg_prove's or ours). */
function summaryNumbers(output: string, file: string, label: 'Failed tests?' | 'TODO passed'): string | undefined {
  const section = output.slice(output.indexOf('Test Summary Report'));
  const start = section.search(new RegExp(`^${file.replace('.', '\\.')}\\b`, 'm'));
  if (start < 0) return undefined;
  const block = section.slice(start).split('\n').slice(1);
  const end = block.findIndex((line) => !line.startsWith(' '));
  const match = new RegExp(`^\\s+${label}:\\s+(.*)$`, 'm').exec(block.slice(0, end < 0 ? undefined : end).join('\n'));
  return match?.[1]?.replace(/\s+/g, '');
}

describe('pgTAP files: database test agrees with pg_prove', () => {
  it('pg_prove is installed', async () => {
    const version = await runProgram('pg_prove', ['--version']);
    expect(version.code, 'install pg_prove (Debian: libtap-parser-sourcehandler-pgtap-perl)').toBe(0);
  });

  it.each(Object.keys(FILES))('%s: the same verdict and exit code', async (name) => {
    const [mine, theirs] = [await ours([name]), await pgProve([name])];
    expect(theirs.stdout).toMatch(/Result: (PASS|FAIL)/);
    expect({ file: name, code: mine.code }, mine.stdout + mine.stderr).toEqual({ file: name, code: theirs.code });
    expect(mine.stdout).toMatch(new RegExp(`^${theirs.code === 0 ? 'ok    ' : 'FAILED'} ${name.replace('.', '\\.')} `, 'm'));
  });

  it('the whole folder: same exit code, same failing files, failed test numbers and passing TODOs', async () => {
    const [mine, theirs] = [await ours(['-j', '2', '.']), await pgProve(Object.keys(FILES))];
    expect(mine.code).toBe(1);
    expect(mine.code).toBe(theirs.code);
    for (const name of Object.keys(FILES)) {
      for (const label of ['Failed tests?', 'TODO passed'] as const) {
        expect({ name, label, ours: summaryNumbers(mine.stdout, name, label) }).toEqual({ name, label, ours: summaryNumbers(theirs.stdout, name, label) });
      }
    }
    // What pg_prove's summary says about these files, ours says too.
    expect(summaryNumbers(mine.stdout, 'xunit-fail.sql', 'Failed tests?')).toBe('1');
    expect(summaryNumbers(mine.stdout, 'failing.sql', 'Failed tests?')).toBe('2-3');
    expect(summaryNumbers(mine.stdout, 'todo-skip.sql', 'TODO passed')).toBe('3');
    expect(mine.stdout).toContain('planned 3 tests (1..3) but 2 ran');
  });

  it("shows pgTAP's diagnostics under a failing test, and the failing test of an xUnit function", async () => {
    const result = await ours(['failing.sql', 'xunit-fail.sql']);
    expect(result.stdout).toContain('       not ok 2 - one is two\n         # Failed test 2: "one is two"\n         #         have: 1\n         #         want: 2\n');
    expect(result.stdout).toMatch(/not ok 1 - app\.test_insert\n(.*\n)*.*not ok 2 - deliberately wrong/);
  });
});

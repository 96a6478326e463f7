/**
 * `migrator lint` end to end: the real executable, a real database. Without names it lints
 * the pending migrations only, judging `ALTER COLUMN … TYPE` from the column types the
 * database holds; text, --json and --format sarif; exit 1 when something is flagged.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { MigratorWorkspace, writeMigration } from './helpers/migrator.js';

let cluster: TestCluster;
let workspace: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  workspace = await MigratorWorkspace.open(cluster, 'lint');
}, 120_000);

afterAll(async () => {
  await workspace?.close();
  await cluster?.stop();
});

/** A database with `account` applied by the first migration, and a second one pending. */
async function pendingSetup(pendingUp: string): Promise<{ url: string; dir: string }> {
  const { url } = await workspace.database();
  const dir = workspace.folder();
  writeMigration(dir, '20240101000000-account', {
    // Already applied: lint must not look at it again (it would be flagged).
    'up.sql': 'CREATE TABLE public.account (id int, name varchar(20), score int) INHERITS (hectic.created_at);\nCREATE INDEX account_name ON public.account (name);\n',
    'down.sql': 'DROP TABLE public.account;\n',
  });
  const applied = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], { env: cluster.env });
  expect(applied.code, applied.stderr).toBe(0);
  writeMigration(dir, '20240102000000-retype', { 'up.sql': pendingUp, 'down.sql': 'SELECT 1;\n' });
  return { url, dir };
}

describe('migrator lint', () => {
  it('lints the pending migrations with the column types of the database: varchar → text passes, int → bigint is a rewrite', async () => {
    const { url, dir } = await pendingSetup("SET lock_timeout = '2s';\nALTER TABLE public.account ALTER COLUMN name TYPE text;\n\nALTER TABLE public.account ALTER COLUMN score TYPE bigint;\n");
    const json = await runBin('migrator', ['-u', url, '-d', dir, 'lint', '--json'], { env: cluster.env });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; migrations: string[]; findings: Array<{ file: string; line: number; rule: string; message: string }> };
    expect(report.ok).toBe(false);
    expect(report.migrations).toEqual(['20240102000000-retype']);
    expect(report.findings.map((finding) => `${path.basename(finding.file)}:${finding.line} ${finding.rule}`)).toEqual(['up.sql:4 table-rewrite']);
    expect(report.findings[0]?.message).toContain('int4 → int8');

    const text = await runBin('migrator', ['-u', url, '-d', dir, 'lint'], { env: cluster.env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/20240102000000-retype\/up\.sql:4: table-rewrite: public\.account\.score int4 → int8 rewrites public\.account\n {2}why: .+\n {2}safe: .+\n/);
    expect(text.stderr).toContain('lint: 1 finding in 1 migration');

    const sarif = await runBin('migrator', ['-u', url, '-d', dir, 'lint', '--format', 'sarif'], { env: cluster.env });
    const log = JSON.parse(sarif.stdout) as { version: string; runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { region: { startLine: number } } }> }> }> };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]?.results.map((result) => [result.ruleId, result.locations[0]?.physicalLocation.region.startLine])).toEqual([['table-rewrite', 4]]);
    expect(sarif.code).toBe(1);
  });

  it('exits 0 when nothing is flagged (or allowed with a reason), and lints named migrations without a database', async () => {
    const { url, dir } = await pendingSetup("SET lock_timeout = '2s';\n-- db-tool: allow table-rewrite account holds ten rows\nALTER TABLE public.account ALTER COLUMN score TYPE bigint;\n");
    const clean = await runBin('migrator', ['-u', url, '-d', dir, 'lint'], { env: cluster.env });
    expect(clean.stdout).toBe('');
    expect(clean.stderr).toContain('lint: 1 migration, nothing flagged (1 allowed by comment)');
    expect(clean.code).toBe(0);
    // Named (by timestamp, name or path): no database needed, the types come from the earlier migrations' CREATE TABLE.
    const unreachable = 'postgresql://nobody@127.0.0.1:1/none';
    const named = await runBin('migrator', ['-u', unreachable, '-d', dir, 'lint', '--json', '20240101000000', path.join(dir, '20240102000000-retype')], { env: cluster.env });
    const report = JSON.parse(named.stdout) as { migrations: string[]; findings: unknown[]; silenced: Array<{ rule: string; message: string; reason: string }> };
    expect(report.migrations).toEqual(['20240101000000-account', '20240102000000-retype']);
    expect(report.findings).toEqual([]);
    expect(report.silenced).toMatchObject([{ rule: 'table-rewrite', reason: 'account holds ten rows' }]);
    expect(report.silenced[0]?.message).toContain('int4 → int8');
    expect(named.code).toBe(0);
  });

  it('refuses an unknown migration name and an unknown format with one line, exit 1', async () => {
    const dir = workspace.folder();
    const unknown = await runBin('migrator', ['-d', dir, 'lint', 'nope'], { env: cluster.env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown migration 'nope'/);
    const format = await runBin('migrator', ['-d', dir, 'lint', '--format', 'xml', 'nope'], { env: cluster.env });
    expect(format.stderr).toMatch(/--format expects text, json or sarif/);
    expect(format.code).toBe(1);
  });
});

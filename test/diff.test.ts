/**
 * `database diff` against real clusters (SPEC §8): the shop fixture is backed up after
 * its first migration; DB1 = backup + the second migration, DB2 = the sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ramDirsOf } from '../src/cluster/ram-storage.js';
import { runBin } from './helpers/cli.js';
import { diffRunFolders, makeDiffProject, sharedMemoryOf, type DiffProject } from './helpers/diff-project.js';
import { BIN, baseEnv } from './helpers/env.js';
import { serversBelow, waitFor } from './helpers/project.js';

interface JsonReport {
  ok: boolean;
  identical: boolean;
  db1: { backup: string; migrationsApplied: string[] };
  db2: { entrypoint: string; mock: boolean };
  summary: Record<string, number>;
  schema: {
    onlyInDb1: Array<{ key: string; sql: string }>;
    onlyInDb2: Array<{ key: string; sql: string }>;
    changed: Array<{ key: string; db1: string; db2: string; diff: string }>;
  };
  data: Array<{
    table: string;
    reasons: string[];
    status: string;
    columns: string[];
    ignoredColumns: string[];
    rowsOnlyInDb1: Array<Record<string, string | null>>;
    rowsOnlyInDb2: Array<Record<string, string | null>>;
    diff: string;
  }>;
}

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
}, 120_000);

afterAll(async () => {
  await project?.remove();
});

function diff(args: string[], env: Record<string, string> = {}) {
  return runBin('database', ['diff', ...args], { env: { ...project.env, ...env }, timeoutMs: 90_000 });
}

async function diffJson(args: string[], env: Record<string, string> = {}): Promise<{ code: number; report: JsonReport; stderr: string }> {
  const result = await diff(['--json', ...args], env);
  if (result.stdout === '') throw new Error(`no JSON (exit ${result.code}): ${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as JsonReport, stderr: result.stderr };
}

async function expectNothingLeft(): Promise<void> {
  expect(serversBelow(project.dir)).toEqual([]);
  // The data in RAM goes in a detached rm (ram-storage.ts), right after the run.
  await waitFor(() => ramDirsOf(path.join(project.dir, 'focus')).length === 0, 30_000, 'the RAM data removed');
  // A run that came to an end also leaves its `finished` marker; nothing else stays.
  for (const [run, entries] of Object.entries(diffRunFolders(project.dir))) expect({ run, entries: entries.filter((entry) => entry !== 'finished') }).toEqual({ run, entries: ['logs'] });
}

/** The report without the rehearsal's timings, which differ from run to run. */
function withoutTimings(text: string): string {
  return text.replace(/^( {2}[0-9]{14}-\S+ .*?)[0-9.]+ m?s$/gm, '$1<time>');
}

/**
 * `spares()`, after moving the spare copies in progress (`.spare-tmp-PID`, each its own
 * process group) from the idle I/O class to the normal one.
 */
function hurried(spares: () => string[]): string[] {
  const workingDir = path.join(project.dir, 'focus', 'postgresql');
  for (const entry of fs.existsSync(workingDir) ? fs.readdirSync(workingDir) : []) {
    const pid = /^\.spare-tmp-(\d+)(-[0-9a-z]+)?$/.exec(entry)?.[1];
    if (pid) spawnSync('ionice', ['-c', '2', '-n', '4', '-P', pid], { stdio: 'ignore' });
  }
  return spares();
}

/** The run folders of earlier diffs, after one run of our own when there are none yet (each test runs alone too). */
async function earlierRuns(): Promise<string[]> {
  if (Object.keys(diffRunFolders(project.dir)).length === 0) expect((await diff([])).code).toBe(0);
  return Object.keys(diffRunFolders(project.dir)).sort();
}

function sources(name: string, edits: Record<string, Array<[string, string]>>): Record<string, string> {
  return { DATABASE_SOURCE: project.variant('src', name, edits) };
}

describe('database diff: identical', () => {
  it('finds identical sources and migrations identical, run after run', async () => {
    const first = await diff([]);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^database diff: no differences\n/);
    expect(first.stdout).toContain('1 migration applied');
    // Where DB1 came from: the backup, and what its history says (migrated, not a deploy's baseline).
    expect(first.stdout).toMatch(/^ {8}from a backup of \S+ taken \S+, a database the migrations ran on \(1 migration applied: a restore or a pull\)$/m);
    expect(first.stdout).toContain('privileges and owners were not compared');
    const second = await diff([]);
    expect(second.code).toBe(0);
    expect(withoutTimings(second.stdout)).toBe(withoutTimings(first.stdout));
    await expectNothingLeft();
  });

  it("builds DB2 from a spare postgres-init left ready (renamed in, not copied), and refills it", async () => {
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    const spares = (): string[] => fs.readdirSync(workingDir).filter((entry) => /^\.spare-[0-9a-f]+-[12]$/.test(entry));
    // Spares are off in the test env (helpers/env.ts): this test keeps the default pool of two.
    const withSpares = { PG_SPARES: '2' };
    expect((await runBin('postgres-init', [], { env: { ...project.env, ...withSpares } })).code).toBe(0);
    try {
      // Spares are copied at idle I/O priority, which a machine busy with other tests'
      // I/O can starve: hurried stands in for a quiet machine.
      await waitFor(() => hurried(spares).length === 2, 150_000, 'postgres-init to prepare its spares');
    } finally {
      expect((await runBin('postgres-cleanup', [], { env: project.env })).code).toBe(0);
    }
    const result = await diff([], { HECTIC_LOG: 'debug', ...withSpares });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/db2: data folder \S+ made by spare/);
    await waitFor(() => hurried(spares).length === 2, 150_000, 'the spare DB2 took to be refilled');
    await expectNothingLeft();
  });

  it('compares immutable reference data and ignores inherited created_at/updated_at', async () => {
    const { code, report } = await diffJson(['--tables', 'category,public.product']);
    expect(code).toBe(0);
    expect(report.identical).toBe(true);
    expect(report.ok).toBe(true);
    const byTable = Object.fromEntries(report.data.map((table) => [table.table, table]));
    expect(Object.keys(byTable).sort()).toEqual(['public.category', 'public.currency', 'public.product']);
    expect(byTable['public.currency']).toMatchObject({ reasons: ['immutable'], status: 'identical', columns: ['code', 'name', 'decimals'], ignoredColumns: ['created_at'] });
    expect(byTable['public.product']?.ignoredColumns).toEqual(['created_at', 'updated_at']);
    expect(byTable['public.category']?.reasons).toEqual(['requested']);
  });
});

describe('database diff: drift', () => {
  // One variant with four independent drifts: each must be reported, and nothing else.
  const drifted = (): Record<string, string> =>
    sources('drift', {
      'schema.sql': [
        ['    price_cents integer NOT NULL DEFAULT 0\n', '    price_cents integer NOT NULL DEFAULT 0,\n    stock integer\n'],
        ["'FM999990.00'", "'FM999999990.00'"],
        ['CREATE INDEX product_category_idx ON public.product (category_id);\n', ''],
      ],
      'reference-data.sql': [["'Pound Sterling'", "'British Pound'"]],
    });

  it('reports a column added, a function body changed, an index dropped and a reference row changed, and nothing else', async () => {
    const { code, report } = await diffJson([], drifted());
    expect(code).toBe(1);
    expect(report.identical).toBe(false);
    expect(report.schema.changed.map((object) => object.key)).toEqual(['FUNCTION public.price_label(integer)', 'TABLE public.product']);
    expect(report.schema.changed[1]?.diff).toContain('+    stock integer');
    expect(report.schema.changed[0]?.diff).toContain("+    AS $$ SELECT to_char(cents / 100.0, 'FM999999990.00') $$;");
    expect(report.schema.onlyInDb1.map((object) => object.key)).toEqual(['INDEX public.product_category_idx']);
    expect(report.schema.onlyInDb2).toEqual([]);
    expect(report.summary).toMatchObject({ onlyInDb1: 1, onlyInDb2: 0, changed: 2, dataTablesDiffering: 1 });
    const currency = report.data.find((table) => table.table === 'public.currency');
    expect(currency?.status).toBe('different');
    expect(currency?.rowsOnlyInDb1).toEqual([{ code: 'GBP', name: 'Pound Sterling', decimals: '2' }]);
    expect(currency?.rowsOnlyInDb2).toEqual([{ code: 'GBP', name: 'British Pound', decimals: '2' }]);
  });

  it('prints the summary, per-object diffs and the immutable data section, the same way every run', async () => {
    const env = drifted();
    const text = await diff([], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('objects only in DB1:    1');
    expect(text.stdout).toContain('objects changed:        2');
    expect(text.stdout).toContain('--- DB1: TABLE public.product\n+++ DB2: TABLE public.product');
    expect(text.stdout).toContain('-CREATE INDEX product_category_idx ON public.product USING btree (category_id);');
    const section = text.stdout.indexOf('--- IMMUTABLE TABLE DATA ---');
    expect(section).toBeGreaterThan(text.stdout.indexOf('--- SCHEMA ---'));
    expect(text.stdout.slice(section)).toContain('-GBP\tPound Sterling\t2\n+GBP\tBritish Pound\t2');
    expect(text.stdout).not.toContain(String.fromCharCode(27)); // not a TTY: no colour
    expect(withoutTimings((await diff([], env)).stdout)).toBe(withoutTimings(text.stdout));
  });

  it('compares --tables row by row; a table found in neither database exits 5', async () => {
    const env = sources('rows', { 'reference-data.sql': [["('books'), ('games')", "('books'), ('toys')"]] });
    const { code, report } = await diffJson(['--tables', 'category'], env);
    expect(code).toBe(1);
    const category = report.data.find((table) => table.table === 'public.category');
    expect(category).toMatchObject({ status: 'different', rowsOnlyInDb1: [{ id: '2', name: 'games' }], rowsOnlyInDb2: [{ id: '2', name: 'toys' }] });
    expect(report.schema.changed).toEqual([]);
    const unknown = await diff(['--tables', 'category,no_such_table']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('no_such_table');
    expect(unknown.stdout).toBe('');
    const bad = await diff(['--tables', 'category;drop']);
    expect(bad.code).toBe(5);
    await expectNothingLeft();
  });

  it('hydrates DB2 with USE_MOCK=1 under -m', async () => {
    const { code, report } = await diffJson(['-m', '--tables', 'category']);
    expect(code).toBe(1);
    expect(report.db2.mock).toBe(true);
    expect(report.schema.changed).toEqual([]);
    const category = report.data.find((table) => table.table === 'public.category');
    expect(category).toMatchObject({ status: 'different', rowsOnlyInDb1: [], rowsOnlyInDb2: [{ id: '3', name: 'mock' }] });
  });

  it('reports a table found in one database only as a difference', async () => {
    const env = sources('extra-table', {
      'schema.sql': [['CREATE TABLE public.currency', 'CREATE TABLE public.note (body text) INHERITS (hectic.created_at);\n\nCREATE TABLE public.currency']],
    });
    const { code, report } = await diffJson(['--tables', 'note'], env);
    expect(code).toBe(1);
    expect(report.schema.onlyInDb2.map((object) => object.key)).toContain('TABLE public.note');
    expect(report.schema.onlyInDb2.every((object) => object.key.includes('note'))).toBe(true);
    expect(report.data.find((table) => table.table === 'public.note')?.status).toBe('only-in-db2');
  });
});

describe('database diff: output and exit codes', () => {
  it('writes the report to a file with -o', async () => {
    const file = path.join(project.dir, 'report.txt');
    const result = await diff(['-o', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^database diff: no differences\n/);
  });

  it('exits 3 naming the path and `database backup` when the backup is missing, before starting anything', async () => {
    const earlier = await earlierRuns();
    const missing = path.join(project.dir, 'no-backup-here');
    const result = await diff([missing]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain('database backup');
    const json = await diff([missing, '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, error: { code: 3, message: expect.stringContaining(missing) as string } });
    // Earlier runs' logs are kept, and no run was started.
    expect(Object.keys(diffRunFolders(project.dir)).sort()).toEqual(earlier);
    await expectNothingLeft();
  });

  it('exits 4 when a migration fails, leaving no server and no data behind', async () => {
    const migrations = project.variant('migration', 'failing', {
      '20240301000000-broken/up.sql': 'ALTER TABLE public.no_such_table ADD COLUMN x integer;\n',
      '20240301000000-broken/down.sql': 'SELECT 1;\n',
    });
    const result = await diff([], { MIGRATION_DIR: migrations });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('20240301000000-broken');
    expect(result.stdout).toBe('');
    const json = await diff(['--json'], { MIGRATION_DIR: migrations });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 4, message: expect.stringContaining('20240301000000-broken') as string } });
    await expectNothingLeft();
  });

  it('exits 2, not 1, when the sources fail to build (or are missing), with a JSON document under --json', async () => {
    const broken = sources('broken', { 'schema.sql': [['CREATE TABLE public.currency', 'CREATE TABLE public.currency_typo (x no_such_type);\n\nCREATE TABLE public.currency']] });
    const result = await diff(['--json'], broken);
    expect(result.code).toBe(2);
    const document = JSON.parse(result.stdout) as { ok: boolean; error: { code: number; message: string } };
    expect(document).toMatchObject({ ok: false, error: { code: 2 } });
    expect(document.error.message).toContain('DB2 (sources) could not be built');
    expect(document.error.message).toContain('no_such_type');
    expect(result.stderr).toContain('schema.sql');
    const missing = await diff([], { HYDRATE_ENTRYPOINT: 'no-such-entrypoint.sql' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-entrypoint.sql');
    const malformed = project.variant('migration', 'malformed', { '20240301000000-no-up/down.sql': 'SELECT 1;\n' });
    const noUp = await diff([], { MIGRATION_DIR: malformed });
    expect(noUp.code).toBe(2);
    expect(noUp.stderr).toContain('20240301000000-no-up');
    await expectNothingLeft();
  });

  it('shows the server logs of the last run with `diff log`', async () => {
    await earlierRuns();
    const list = await runBin('database', ['diff', 'log', 'list'], { env: project.env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^1\tdb1\//);
    expect(list.stdout).toMatch(/\tdb2\/server\.log\t/);
    const all = await runBin('database', ['diff', 'log'], { env: project.env });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('==> db1/');
    expect(all.stdout).toContain('database system is ready to accept connections');
    const one = await runBin('database', ['diff', 'log', 'db2/server.log'], { env: project.env });
    expect(one.code).toBe(0);
    expect(one.stdout).not.toContain('==>');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops both servers and removes their data on %s', async (signal, exitCode) => {
    const child = spawn(path.join(BIN, 'database'), ['diff'], { env: baseEnv(project.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupt once a server of this run is up (or the run has ended on its own).
    const deadline = Date.now() + 90_000;
    const runServers = () => serversBelow(path.join(project.dir, 'focus', 'database-diff-'));
    while (sharedMemoryOf(runServers()).length === 0 && child.exitCode === null && Date.now() < deadline) {
      await sleep(10);
    }
    expect(child.exitCode).toBeNull();
    const segments = sharedMemoryOf(runServers());
    child.kill(signal);
    expect(await exited).toBe(exitCode);
    expect(stderr).toContain('interrupted');
    await expectNothingLeft();
    // Shut down, not killed: a killed postmaster leaves its shared memory in /dev/shm.
    expect(segments.filter((segment) => fs.existsSync(segment))).toEqual([]);
  });
});

describe("the backup's database", () => {
  it("is DB1 whatever PG_DATABASE says (production's is often named otherwise)", async () => {
    const { code, report, stderr } = await diffJson([], { PG_DATABASE: 'otherdb' });
    expect(code, stderr).toBeLessThanOrEqual(1);
    // The backup holds the first migration: only the second runs on it. An empty
    // database made in its place ran both, and compared as production.
    expect(report.db1.migrationsApplied).toEqual(['20240201000000-prices']);
  });

  it('must be in the copy when the backup does not say which it holds: exit 3, never an empty one in its place', async () => {
    const backup = path.join(project.dir, 'backup-without-info');
    fs.cpSync(path.join(project.dir, 'focus', 'postgresql-backup'), backup, { recursive: true });
    fs.rmSync(path.join(backup, 'db-tool-backup.json'));
    try {
      const result = await diff([backup], { PG_DATABASE: 'otherdb' });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/holds no database otherdb/);
    } finally {
      fs.rmSync(backup, { recursive: true, force: true });
    }
  });
});

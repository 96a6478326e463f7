/**
 * `database hydrate` against a real PostgreSQL: bundle, dotenv secrets (never in a
 * pg_dump), the entrypoint with \ir and USE_MOCK, error reporting, output routing,
 * --inherits and the remote-target refusal. One cluster; one database per test.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { copyProject, createDatabase, FIXTURES, queryValue, type Project } from './helpers/project.js';
import { PG_DUMP_FITS_SERVER } from './helpers/pg-versions.js';

const run = promisify(execFile);

let cluster: TestCluster;
let project: Project;
let scratch: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  project = copyProject('deploy-project');
  scratch = makeTempDir('db-tool-hydrate-');
});

afterAll(async () => {
  await cluster?.stop();
  project?.remove();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function hydrate(url: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  return runBin('database', ['--url', url, 'hydrate', ...args], { env: { LOCAL_DIR: project.dir, ...env } });
}

const itemCount = (url: string, pattern = '%'): Promise<string | undefined> =>
  queryValue<string>(url, 'SELECT count(*)::text FROM app.item WHERE name LIKE $1', [pattern]);

describe('database hydrate', () => {
  it('applies the bundle and runs the entrypoint with its \\ir files, without mock data', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_ok');
    const result = await hydrate(url);
    expect(result.stderr).toContain('hectic bundle');
    expect(result.code).toBe(0);
    expect(await queryValue(url, "SELECT version FROM hectic.version WHERE name = 'hectic'")).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await queryValue(url, "SELECT to_regclass('app.item')::text")).toBe('app.item');
    expect(await queryValue(url, 'SELECT count(*)::int FROM app.colour')).toBe(2);
    expect(await itemCount(url, 'mock-%')).toBe('0');
    // no HYDRATE_LOG, no PG_LOG_PATH: psql's output is ours
    expect(result.stdout).toContain('hydrate-output-marker');
  });

  it('--mock passes USE_MOCK=1 to the sources', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_mock');
    const result = await hydrate(url, ['--mock']);
    expect(result.code, result.stderr).toBe(0);
    expect(await itemCount(url, 'mock-%')).toBe('2');
  });

  it('-H/--no-hook leaves the hectic bundle out', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_nohook');
    const result = await hydrate(url, ['-H'], { DATABASE_SOURCE: path.join(FIXTURES, 'deploy-plain') });
    expect(result.code, result.stderr).toBe(0);
    expect(await queryValue(url, "SELECT to_regnamespace('hectic') IS NULL")).toBe(true);
    expect(await queryValue(url, "SELECT to_regclass('plain_table') IS NOT NULL")).toBe(true);
  });

  // Runs pg_dump itself: stays on a server its pg_dump can dump (PostgreSQL 15 in CI, not the 16-18 matrix).
  it.skipIf(!PG_DUMP_FITS_SERVER)('loads dotenv secrets encrypted; the value reaches neither pg_dump output nor our output', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_secret');
    const secret = 'sekret-4b1d-known-plaintext';
    const dotenv = path.join(scratch, 'secrets.env');
    fs.writeFileSync(dotenv, `# comment\nexport API_TOKEN="${secret}"\nOTHER = x\n`);
    const result = await hydrate(url, [], { HECTIC_DOTENV_FILE: dotenv });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('loaded 2 secrets');
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    expect(await queryValue(url, "SELECT hectic.get_secret('API_TOKEN')")).toBe(secret);
    for (const flags of [[], ['--inserts'], ['-Fp', '--column-inserts', '--data-only']]) {
      const dump = await run('pg_dump', [...flags, '-d', url], { maxBuffer: 64 * 1024 * 1024 });
      expect(dump.stdout).toContain('hectic.secret');
      expect(dump.stdout).not.toContain(secret);
    }
  });

  it('finds $LOCAL_DIR/.env.$ENVIRONMENT when HECTIC_DOTENV_FILE is unset', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_envfile');
    const local = copyProject('deploy-project');
    try {
      fs.writeFileSync(path.join(local.dir, '.env.ci'), 'FROM_ENVIRONMENT=yes\n');
      const result = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: local.dir, ENVIRONMENT: 'ci' } });
      expect(result.code, result.stderr).toBe(0);
      expect(await queryValue(url, "SELECT hectic.get_secret('FROM_ENVIRONMENT')")).toBe('yes');
    } finally {
      local.remove();
    }
  });

  it('a bad dotenv line → exit 1 naming the line; the previous secrets stay', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_baddotenv');
    const good = path.join(scratch, 'good.env');
    const bad = path.join(scratch, 'bad.env');
    fs.writeFileSync(good, 'KEEP=me\n');
    fs.writeFileSync(bad, 'A=1\n\nthis line has no equals sign\n');
    expect((await hydrate(url, [], { HECTIC_DOTENV_FILE: good })).code).toBe(0);
    const result = await hydrate(url, [], { HECTIC_DOTENV_FILE: bad });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 3');
    expect(result.stderr).toContain(bad);
    expect(result.stderr).not.toContain('no equals sign');
    expect(await queryValue(url, "SELECT hectic.get_secret('KEEP')")).toBe('me');
    expect(await queryValue(url, "SELECT hectic.get_secret('A')")).toBeNull();
  });

  it('an SQL error in an \\ir file → exit 1 naming that file and line', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_sqlerror');
    const local = copyProject('deploy-project');
    try {
      const broken = path.join(local.dir, 'db', 'src', 'tables', 'item.sql');
      fs.appendFileSync(broken, '\nSELECT * FROM app.no_such_table;\n');
      const line = fs.readFileSync(broken, 'utf8').split('\n').indexOf('SELECT * FROM app.no_such_table;') + 1;
      const result = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: local.dir } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${broken}:${line}`);
      expect(result.stderr).toContain('no_such_table');
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      local.remove();
    }
  });

  it('\\i paths are relative to $LOCAL_DIR wherever the command runs', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_cwd');
    const local = copyProject('deploy-project');
    try {
      fs.writeFileSync(path.join(local.dir, 'db', 'src', 'rooted.sql'), '\\i db/src/schema.sql\n\\i db/src/tables/item.sql\n');
      const result = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: local.dir, HYDRATE_ENTRYPOINT: 'rooted.sql' }, cwd: scratch });
      expect(result.code, result.stderr).toBe(0);
      expect(await queryValue(url, "SELECT to_regclass('app.item')::text")).toBe('app.item');
    } finally {
      local.remove();
    }
  });

  it('a missing entrypoint → exit 1 naming the path; no sources configured → exit 3', async () => {
    const url = await createDatabase(cluster.url, 'hydrate_missing');
    const missing = await hydrate(url, [], { HYDRATE_ENTRYPOINT: 'nope.sql' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(path.join(project.dir, 'db', 'src', 'nope.sql'));
    const unconfigured = await runBin('database', ['--url', url, 'hydrate'], { env: {} });
    expect(unconfigured.code).toBe(3);
    expect(unconfigured.stderr).toContain('DATABASE_SOURCE');
  });

  it('HYDRATE_LOG, else $PG_LOG_PATH/hydrate.stdout.log, receives the psql output', async () => {
    const logFile = path.join(scratch, 'explicit', 'hydrate.log');
    const first = await hydrate(await createDatabase(cluster.url, 'hydrate_log'), [], { HYDRATE_LOG: logFile, PG_LOG_PATH: path.join(scratch, 'ignored') });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('hydrate-output-marker');
    expect(fs.readFileSync(logFile, 'utf8')).toContain('hydrate-output-marker');
    expect(fs.existsSync(path.join(scratch, 'ignored', 'hydrate.stdout.log'))).toBe(false);

    const logPath = path.join(scratch, 'pglogs');
    const second = await hydrate(await createDatabase(cluster.url, 'hydrate_logpath'), [], { PG_LOG_PATH: logPath });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('hydrate-output-marker');
    expect(fs.readFileSync(path.join(logPath, 'hydrate.stdout.log'), 'utf8')).toContain('hydrate-output-marker');
  });

  it('-i/--inherits: existing tables pass, a missing one → exit 5', async () => {
    const ok = await runBin('database', ['-i', 'app.item', '--inherits', 'colour', '--url', await createDatabase(cluster.url, 'hydrate_inh'), 'hydrate'], { env: { LOCAL_DIR: project.dir } });
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await runBin('database', ['-i', 'app.item', '-i', 'app.nope', '--url', await createDatabase(cluster.url, 'hydrate_inh2'), 'hydrate'], { env: { LOCAL_DIR: project.dir } });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('app.nope');
    expect(missing.stderr).not.toContain('app.item');
  });

  it('refuses a non-local URL before connecting, unless --allow-remote', async () => {
    const refused = await runBin('database', ['--url', 'postgresql://u@db.example.com/x', 'hydrate'], { env: { LOCAL_DIR: project.dir } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-remote');
    expect(refused.stderr).not.toContain('cannot connect');
    // With --allow-remote it goes on and tries to connect (to a port nothing listens on).
    const allowed = await runBin('database', ['--allow-remote', '--url', 'postgresql://u@127.0.0.2:9/x?connect_timeout=2', 'hydrate'], { env: { LOCAL_DIR: project.dir } });
    expect(allowed.code).toBe(1);
    expect(allowed.stderr).toContain('cannot connect');
  });
});

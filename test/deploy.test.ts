/**
 * `database deploy` against a real PostgreSQL, and the example project: the full flow
 * (init → hydrate → patch), --mock, -H/-P, --reuse keeping data, -i, and --cleanup
 * leaving no server running — also when a step failed, with that step's exit code.
 * Each test has its own project copy, so its cluster is $LOCAL_DIR/focus/postgresql.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin, runProgram } from './helpers/cli.js';
import { ROOT, makeTempDir } from './helpers/env.js';
import { copyProject, focusEntries, processesMentioning, queryValue, serversBelow, spawnDatabase, waitFor, withDb, type Project } from './helpers/project.js';
import { PG_DUMP_FITS_SERVER } from './helpers/pg-versions.js';

const run = promisify(execFile);
const projects: Project[] = [];

afterEach(async () => {
  for (const project of projects.splice(0)) {
    await runBin('database', ['cleanup'], { env: { LOCAL_DIR: project.dir } });
    for (const pid of serversBelow(project.dir)) process.kill(pid, 'SIGKILL');
    project.remove();
  }
});

function newProject(source = 'deploy-project'): Project {
  const project = copyProject(source);
  projects.push(project);
  return project;
}

function database(project: Project, args: string[], env: Record<string, string> = {}) {
  return runBin('database', args, { env: { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '', ...env } });
}

/** The URL of the project cluster, as `postgres-init --env` would export it. */
async function clusterUrl(project: Project): Promise<string> {
  const status = await database(project, ['status', '--json']);
  const url = (JSON.parse(status.stdout) as { url: string | null }).url;
  if (!url) throw new Error(`cluster not running: ${status.stdout}${status.stderr}`);
  return url;
}

const items = (url: string): Promise<string[] | undefined> =>
  queryValue<string[]>(url, 'SELECT coalesce(array_agg(name ORDER BY id), ARRAY[]::text[]) FROM app.item');

describe('database deploy', () => {
  it('init → hydrate → patch on the project cluster; --reuse keeps the data; a new deploy starts fresh', async () => {
    const project = newProject();
    const deployed = await database(project, ['deploy']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('hydrate-output-marker');
    expect(deployed.stdout).toContain('patch-output-marker');
    expect(serversBelow(project.dir)).toHaveLength(1);
    const url = await clusterUrl(project);
    expect(await items(url)).toEqual(['from-test-data']);
    expect(await queryValue(url, 'SELECT count(*)::int FROM app.colour')).toBe(2);

    // `database test` finds the running cluster of PG_WORKING_DIR by itself.
    const tested = await database(project, ['test']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toContain('PASS: 2 passed');

    await withDb(url, (client) => client.query("INSERT INTO app.item (name) VALUES ('kept')"));
    const reused = await database(project, ['deploy', '--reuse']);
    expect(reused.code, reused.stderr).toBe(0);
    expect(reused.stdout).not.toContain('hydrate-output-marker');
    expect(await items(await clusterUrl(project))).toEqual(['from-test-data', 'kept']);

    const fresh = await database(project, ['deploy', '--mock']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await items(await clusterUrl(project))).toEqual(['mock-1', 'mock-2', 'from-test-data']);
  });

  it('-H/--no-hydrate and -P/--no-patch skip their steps', async () => {
    const project = newProject();
    const noPatch = await database(project, ['deploy', '-P']);
    expect(noPatch.code, noPatch.stderr).toBe(0);
    expect(await items(await clusterUrl(project))).toEqual([]);
    const nothing = await database(project, ['deploy', '--no-hydrate', '--no-patch']);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(await queryValue(await clusterUrl(project), "SELECT to_regnamespace('app') IS NULL")).toBe(true);
  });

  it('-i/--inherits is checked on the deployed database: a missing table → exit 5', async () => {
    const project = newProject();
    const ok = await database(project, ['-i', 'app.item', 'deploy']);
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await database(project, ['deploy', '-i', 'app.item', '-i', 'app.ghost']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('app.ghost');
  });

  it('--cleanup stops the cluster after a successful deploy', async () => {
    const project = newProject();
    const result = await database(project, ['deploy', '--cleanup']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('cluster stopped');
    expect(serversBelow(project.dir)).toEqual([]);
    expect(fs.existsSync(path.join(project.dir, 'focus', 'postgresql', 'data', 'postmaster.pid'))).toBe(false);
  });

  it('--cleanup stops the cluster when hydrate fails, keeping exit 1', async () => {
    const project = newProject();
    fs.appendFileSync(path.join(project.dir, 'db', 'src', 'mock.sql'), '\nSELECT broken(;\n');
    const result = await database(project, ['deploy', '-c', '--mock']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(project.dir, 'db', 'src', 'mock.sql'));
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('--cleanup after a failing patch, or a missing --inherits table, keeps exit 1 / 5', async () => {
    const project = newProject();
    fs.writeFileSync(path.join(project.dir, 'test-data.sql'), 'INSERT INTO app.item (name) VALUES (NULL);\n');
    const patchFails = await database(project, ['deploy', '--cleanup']);
    expect(patchFails.code).toBe(1);
    expect(patchFails.stderr).toContain('test-data.sql:1');
    expect(serversBelow(project.dir)).toEqual([]);

    const missingTable = await database(project, ['-i', 'nowhere', 'deploy', '--cleanup', '-P']);
    expect(missingTable.code).toBe(5);
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('--cleanup when the server cannot start keeps exit 2', async () => {
    const project = newProject();
    const conf = path.join(project.dir, 'broken.conf');
    fs.writeFileSync(conf, "shared_buffers = 'plenty'\n");
    const result = await database(project, ['deploy', '--cleanup'], { PG_CONF_FILE: conf });
    expect(result.code).toBe(2);
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('--cleanup stops the cluster when the run is interrupted (SIGTERM → exit 143)', async () => {
    const project = newProject();
    const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
    fs.appendFileSync(entrypoint, '\nSELECT pg_sleep(60);\n');
    const { child, done } = spawnDatabase(['deploy', '--cleanup'], { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' });
    try {
      await waitFor(() => processesMentioning(`-f ${entrypoint}`).length > 0, 90_000, 'psql running the entrypoint');
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(143);
      expect(serversBelow(project.dir)).toEqual([]);
      expect(processesMentioning(project.dir)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a missing entrypoint fails (exit 1) before the existing cluster is touched', async () => {
    const project = newProject();
    expect((await database(project, ['deploy', '-P'])).code).toBe(0);
    const url = await clusterUrl(project);
    await withDb(url, (client) => client.query("INSERT INTO app.item (name) VALUES ('survivor')"));
    const result = await database(project, ['deploy'], { HYDRATE_ENTRYPOINT: 'missing.sql' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(project.dir, 'db', 'src', 'missing.sql'));
    expect(await items(url)).toEqual(['survivor']);
  });
});

describe('the example project', () => {
  // Runs pg_dump itself: stays on a server its pg_dump can dump (PostgreSQL 15 in CI, not the 16-18 matrix).
  it.skipIf(!PG_DUMP_FITS_SERVER)('README flow: deploy --mock with ENVIRONMENT=example, test, cleanup; the secret is in no pg_dump', async () => {
    const project = newProject(path.join(ROOT, 'examples', 'shop'));
    const deployed = await database(project, ['deploy', '--mock'], { ENVIRONMENT: 'example' });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain(`loaded 2 secrets from ${path.join(project.dir, '.env.example')}`);
    const tested = await database(project, ['test']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toContain('PASS: 8 passed (1 file, ');

    const url = await clusterUrl(project);
    expect(await queryValue(url, "SELECT count(*)::int FROM shop.product WHERE sku LIKE 'MOCK-%'")).toBe(3);
    const secret = 'example-key-not-a-real-one';
    expect(fs.readFileSync(path.join(project.dir, '.env.example'), 'utf8')).toContain(secret);
    const dump = await run('pg_dump', ['-d', url], { maxBuffer: 64 * 1024 * 1024 });
    expect(dump.stdout).toContain('hectic.secret');
    expect(dump.stdout).not.toContain(secret);

    const cleaned = await database(project, ['cleanup']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('without a dotenv file the secret test is skipped, not failed', async () => {
    const project = newProject(path.join(ROOT, 'examples', 'shop'));
    expect((await database(project, ['deploy'])).code).toBe(0);
    const tested = await database(project, ['test', '-v']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toContain('ok 8 - payment gateway configured # SKIP');
    expect(tested.stdout).toContain('PASS: 7 passed, 1 skipped (1 file, ');
  });

  // Its `database check` proves the migrations with pg_dump, as new as the server (pg-matrix).
  it.skipIf(!PG_DUMP_FITS_SERVER)('examples/run.sh (npm run example) passes and leaves nothing behind; a broken source fails it', async () => {
    const dir = makeTempDir('db-tool-example-');
    try {
      fs.cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'));
      const shop = path.join(dir, 'examples', 'shop');
      const passed = await runProgram('bash', [path.join(dir, 'examples', 'run.sh')], { timeoutMs: 120_000 });
      expect(passed.code, passed.stderr).toBe(0);
      expect(passed.stderr).toContain('check passed');
      expect(fs.existsSync(path.join(shop, 'focus'))).toBe(false);
      expect(serversBelow(shop)).toEqual([]);

      fs.appendFileSync(path.join(shop, 'db', 'src', 'functions', 'payment.sql'), '\nSELECT 1/0;\n');
      const failed = await runProgram('bash', [path.join(dir, 'examples', 'run.sh')], { timeoutMs: 120_000 });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain('division by zero');
      expect(focusEntries(shop)).toEqual([]);
      expect(serversBelow(shop)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * `database migrator ARGS…` (the migrator with the project's MIGRATION_DIR and target
 * URL) and the migrations part of `database status` (SPEC §5), against the project's
 * running cluster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { MIGRATOR_FIXTURES, MigratorWorkspace, appliedNames, connectTo, tableMigration } from './helpers/migrator.js';

const USERS = '20240101000000-create-users';
const POSTS = '20240102000000-create-posts';
const COLORS = '20240103000000-colors';

let cluster: TestCluster;
let work: MigratorWorkspace;
let project: string;
/** The project's environment: its cluster (PG_WORKING_DIR) and LOCAL_DIR; no URL variables. */
let env: Record<string, string | undefined>;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'database');
  project = makeTempDir('db-tool-migrator-project-');
  fs.cpSync(path.join(MIGRATOR_FIXTURES, 'basic'), path.join(project, 'db', 'migration'), { recursive: true });
  env = { PG_WORKING_DIR: cluster.workingDir, LOCAL_DIR: project, PGURL: undefined, DB_URL: undefined };
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe('database migrator', () => {
  it("uses $DATABASE_DIR/migration and the running cluster, and database status lists pending migrations", async () => {
    const testdb = await connectTo(cluster, 'testdb');
    try {
      const before = JSON.parse((await runBin('database', ['status', '--json'], { env })).stdout);
      expect(before.migrations).toEqual({ applied: [], pending: [USERS, POSTS, COLORS] });

      const up = await runBin('database', ['migrator', 'migrate', 'up', '2'], { env });
      expect(up.code, up.stderr).toBe(0);
      expect(await appliedNames(testdb)).toEqual([USERS, POSTS]);

      const status = await runBin('database', ['status'], { env });
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/migrations: 2 applied, 1 pending/);
      expect(status.stdout).toContain(`pending: ${COLORS}`);
      const json = JSON.parse((await runBin('database', ['status', '--json'], { env })).stdout);
      expect(json.migrations).toEqual({ applied: [USERS, POSTS], pending: [COLORS] });

      const migratorStatus = await runBin('database', ['migrator', 'migrate', 'status'], { env });
      expect(lines(migratorStatus.stdout).map((line) => line.split(/ {2,}/)[1])).toEqual(['applied', 'applied', 'pending']);

      expect((await runBin('database', ['migrator', 'migrate', 'down', 'all'], { env })).code).toBe(0);
      expect(await appliedNames(testdb)).toEqual([]);
    } finally {
      await testdb.end();
    }
  });

  it('honours MIGRATION_DIR, --url and the migrator flags', async () => {
    const other = work.folder();
    tableMigration(other, '20240101000000-elsewhere', 'elsewhere');
    const db = await work.database();
    const viaUrl = await runBin('database', ['--url', db.url, 'migrator', 'migrate', 'up', 'all'], { env: { ...env, MIGRATION_DIR: other } });
    expect(viaUrl.code, viaUrl.stderr).toBe(0);
    expect(await appliedNames(db.client)).toEqual(['20240101000000-elsewhere']);

    // -u after `migrator` and -d both reach the migrator; $PG_URL_VAR wins over the cluster.
    const db2 = await work.database();
    const flags = await runBin('database', ['migrator', '-u', db2.url, '-d', path.join(project, 'db', 'migration'), 'migrate', 'up'], { env });
    expect(flags.code, flags.stderr).toBe(0);
    expect(await appliedNames(db2.client)).toEqual([USERS]);
    const viaVar = await runBin('database', ['migrator', 'migrate', 'up'], { env: { ...env, PGURL: db2.url } });
    expect(viaVar.code, viaVar.stderr).toBe(0);
    expect(await appliedNames(db2.client)).toEqual([USERS, POSTS]);
  });

  it('passes help, errors and exit codes through', async () => {
    const help = await runBin('database', ['migrator', '--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/migrate/);
    expect((await runBin('database', ['migrator', 'list', 'migrate'], { env })).code).toBe(2);
    expect((await runBin('database', ['migrator', 'bogus'], { env })).code).toBe(9);
    expect((await runBin('database', ['migrator'], { env })).code).toBe(1);
    const listed = await runBin('database', ['migrator', 'list', '--raw'], { env });
    expect(lines(listed.stdout)).toEqual([USERS, POSTS, COLORS]);
  });

  it('needs no database for list, and exit 3 without any target for migrate', async () => {
    const bare = { LOCAL_DIR: project, PG_WORKING_DIR: path.join(project, 'no-cluster'), PGURL: undefined, DB_URL: undefined };
    expect((await runBin('database', ['migrator', 'list'], { env: bare })).code).toBe(0);
    const up = await runBin('database', ['migrator', 'migrate', 'up'], { env: bare });
    expect(up.code).toBe(3);
    expect(up.stderr).toMatch(/DB_URL/);
  });
});

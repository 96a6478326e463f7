/**
 * Messages a newcomer meets: an unknown option names its subcommand, `database --help`
 * explains LOCAL_DIR, and `migrate status` without a reachable database still lists
 * the migrations on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

let project: string;

beforeAll(() => {
  project = makeTempDir('db-tool-messages-');
  for (const name of ['20240101000000-first', '20240102000000-second']) {
    fs.mkdirSync(path.join(project, 'db', 'migration', name), { recursive: true });
    fs.writeFileSync(path.join(project, 'db', 'migration', name, 'up.sql'), 'SELECT 1;\n');
    fs.writeFileSync(path.join(project, 'db', 'migration', name, 'down.sql'), 'SELECT 1;\n');
  }
});

afterAll(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

describe('an unknown option', () => {
  it.each([
    [['deploy', '--x'], "database deploy: unknown option '--x'"],
    [['diff', 'log', '--x'], "database diff log: unknown option '--x'"],
    [['--x', 'status'], "database: unknown option '--x'"],
    [['migrator', 'migrate', 'up', '--x'], "database migrator migrate up: unknown option '--x'"],
  ])('database %j names where it was given (exit 9)', async (args, message) => {
    const result = await runBin('database', args, { env: { LOCAL_DIR: project } });
    expect(result.code).toBe(9);
    expect(result.stderr.split('\n')[0]).toBe(message);
  });

  it('is named by subcommand in migrator and postgres-init too', async () => {
    const migrator = await runBin('migrator', ['migrate', 'status', '--x']);
    expect(migrator.code).toBe(9);
    expect(migrator.stderr).toMatch(/^migrator migrate status: unknown option '--x'/);
    const init = await runBin('postgres-init', ['--x']);
    expect(init.code).toBe(9);
    expect(init.stderr).toMatch(/^postgres-init: unknown option '--x'/);
  });
});

it('database --help explains LOCAL_DIR and points to scaffold', async () => {
  const result = await runBin('database', ['--help']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/LOCAL_DIR +the project root: db\/src\/entrypoint\.sql/);
  expect(result.stdout).toContain('database scaffold');
  expect(result.stdout).toContain('--env-file');
});

describe('migrate status when the database cannot be reached', () => {
  it('lists the migrations on disk as unknown, warns, and exits 3 when there is no database at all', async () => {
    const env = { LOCAL_DIR: project, PGURL: undefined, DB_URL: undefined };
    const result = await runBin('database', ['migrator', 'migrate', 'status'], { env });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('20240101000000-first   unknown  -\n20240102000000-second  unknown  -\n');
    expect(result.stderr).toContain('warn: the database cannot be reached: migrations on disk are listed with state unknown');
    expect(result.stderr).toContain('no database to work on');
  });

  it('exits 1 when the URL points at a stopped cluster, with the error in --json', async () => {
    const url = `postgresql://nobody@/testdb?host=${project}/focus/postgresql/sock&port=5432`;
    const result = await runBin('migrator', ['migrate', 'status', '--json'], { env: { LOCAL_DIR: project, DB_URL: url } });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { migrations: Array<{ name: string; state: string }>; error: { code: number; message: string } };
    expect(report.migrations.map((m) => `${m.name} ${m.state}`)).toEqual(['20240101000000-first unknown', '20240102000000-second unknown']);
    expect(report.error.code).toBe(1);
    expect(report.error.message).toMatch(/^cannot connect to /);
  });
});

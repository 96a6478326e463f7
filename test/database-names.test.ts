/**
 * Issue 19 §6: PG_DATABASE names that need escaping (`my$db`, `a/b`, `x#y`, spaces,
 * quotes, unicode) work end to end: created, exported in a URL that decodes back to the
 * same name, reached by psql, pg_dump, our pg connections, deploy, status and test.
 * Names PostgreSQL or a config line cannot keep are refused before anything starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';
import { copyProject } from './helpers/project.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function project(database: string): { dir: string; env: Record<string, string> } {
  const copy = copyProject('deploy-project');
  const env = { LOCAL_DIR: copy.dir, PG_DATABASE: database, PG_SHARED_PRELOAD_LIBRARIES: '' };
  cleanups.push(async () => {
    await runBin('postgres-cleanup', [], { env });
    copy.remove();
  });
  return { dir: copy.dir, env };
}

/** The database a URL names, decoded as libpq decodes it. */
function databaseInUrl(url: string): string {
  const raw = /^postgresql:\/\/[^/?#]*\/([^?#]*)/.exec(url)?.[1];
  if (raw === undefined) throw new Error(`no database in ${url}`);
  return decodeURIComponent(raw);
}

async function psqlValue(url: string, sql: string): Promise<string> {
  const result = await runProgram('psql', ['-X', '-At', '-d', url, '-c', sql]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.replace(/\n$/, '');
}

async function initExports(env: Record<string, string>): Promise<Record<string, string>> {
  const result = await runBin('postgres-init', ['--env'], { env, cwd: env.LOCAL_DIR });
  expect(result.code, result.stderr).toBe(0);
  return parseExports(result.stdout);
}

const NAMES = ['my$db', 'a/b', 'x#y', 'with space', "it's", 'q"uote', 'back\\slash', 'ünïcødé', 'p%41ct?x=1&y'];

describe('PG_DATABASE names that need escaping', () => {
  it.each(NAMES)('%j: created, exported as a URL that decodes back to it, reached by psql and status', async (name) => {
    const { env } = project(name);
    const vars = await initExports(env);
    expect(vars.POSTGRESQL_DATABASE).toBe(name);
    expect(databaseInUrl(vars.PGURL!)).toBe(name);
    expect(await psqlValue(vars.PGURL!, 'SELECT current_database()')).toBe(name);
    const status = await runBin('database', ['status', '--json'], { env, cwd: env.LOCAL_DIR });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).database).toBe(name);
  });

  it('a name holding all of them deploys, tests, dumps and reuses end to end', async () => {
    const name = "my$db a/b x#y it's ü";
    const { env } = project(name);
    const vars = await initExports(env);
    const url = vars.PGURL!;
    const deploy = await runBin('database', ['deploy'], { env: { ...env, PGURL: url }, cwd: env.LOCAL_DIR });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(await psqlValue(url, 'SELECT count(*) FROM app.colour')).toBe('2');
    const test = await runBin('database', ['test'], { env: { ...env, PGURL: url }, cwd: env.LOCAL_DIR });
    expect(test.code, test.stderr + test.stdout).toBe(0);
    const dump = await runProgram('pg_dump', ['--schema-only', '-d', url]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toContain('CREATE TABLE app.colour');
    // Reused (the database already there) and reached by our own pg connection again.
    const again = await runBin('postgres-init', ['--reuse', '--env'], { env, cwd: env.LOCAL_DIR });
    expect(again.code, again.stderr).toBe(0);
    expect(await psqlValue(parseExports(again.stdout).PGURL!, 'SELECT count(*) FROM app.colour')).toBe('2');
  });

  it.each([
    ['a line break', 'a\nb'],
    ['a control character', 'a\u001bb'],
    ['more than 63 bytes', 'é'.repeat(32)],
  ])('refuses a name with %s in one line, before anything starts', async (_why, name) => {
    const dir = makeTempDir();
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const work = path.join(dir, 'pg');
    const result = await runBin('postgres-init', [], { env: { PG_WORKING_DIR: work, PG_DATABASE: name, PG_SHARED_PRELOAD_LIBRARIES: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^[a-z-]+: PG_DATABASE is not a valid database name \(1 to 63 bytes, no control characters\), got /);
    expect(result.stderr).not.toContain('\u001b');
    expect(fs.existsSync(work)).toBe(false);
  });
});

/**
 * SPEC §17 "Security", issue 19 §4: every path and name written into postgresql.conf is
 * quoted by the file's own rules (a backslash is an escape there, a quote is doubled),
 * so folders named with quotes, backslashes, `#`, commas, spaces or unicode work; a
 * value the file cannot hold (a line break) is refused in one line before anything
 * starts; and a run that fails after starting its server stops it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  // `database cleanup` also removes a socket folder moved to /tmp.
  for (const env of envs.splice(0)) await runBin('database', ['cleanup'], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A project folder whose path holds `name`. */
function folderNamed(name: string): string {
  const dir = makeTempDir('db-tool-conf-');
  dirs.push(dir);
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { mode: 0o755 });
  return folder;
}

/** What the running server says a setting is, through psql (libpq decodes the URL). */
async function setting(url: string, name: string): Promise<string> {
  const result = await runProgram('psql', ['-X', '-At', '-d', url, '-c', `SELECT current_setting('${name}')`]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.replace(/\n$/, '');
}

function serverRunning(workingDir: string): boolean {
  const pidfile = path.join(workingDir, 'data', 'postmaster.pid');
  if (!fs.existsSync(pidfile)) return false;
  return fs.existsSync(`/proc/${Number(fs.readFileSync(pidfile, 'utf8').split('\n')[0])}`);
}

const NAMES = ['bs\\x', "it's", "q\\'uote", 'hash#no comment', 'a,b "c"', 'ünï €', 'tab-less $HOME `x`'];

describe('values in postgresql.conf', () => {
  it.each(NAMES)('a project folder named %j works: socket and log folders reach the server as they are', async (name) => {
    const folder = folderNamed(name);
    const work = path.join(folder, 'pg');
    const logs = path.join(folder, 'logs');
    const env = { PG_WORKING_DIR: work, PG_LOG_PATH: logs, PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code, result.stderr).toBe(0);
    const vars = parseExports(result.stdout);
    const url = vars.PGURL!;
    // A comma cannot reach libpq (it splits hosts on commas): that socket moves to /tmp.
    const sockDir = name.includes(',') ? vars.POSTGRESQL_HOST! : path.join(work, 'sock');
    if (name.includes(',')) expect(result.stderr).toMatch(/holds a comma.*; using \/tmp\//);
    expect(unquoteListElement(await setting(url, 'unix_socket_directories'))).toBe(sockDir);
    expect(await setting(url, 'log_directory')).toBe(logs);
    // The server wrote where it was told: its logs are in the folder of that name.
    expect(fs.readdirSync(logs).some((entry) => entry.startsWith('postgresql-'))).toBe(true);
  });

  it('writes pg_cron settings (database name, socket folder) quoted by the file rules', async () => {
    const cron = await runProgram('sh', ['-c', 'ls "$(pg_config --pkglibdir)"/pg_cron.so']);
    if (cron.code !== 0) return expect(cron.code).not.toBe(0); // no pg_cron here: nothing to write
    const folder = folderNamed("cron\\'s #dir");
    const database = "d'b\\x #1";
    const env = { PG_WORKING_DIR: path.join(folder, 'pg'), PG_DATABASE: database, PG_SHARED_PRELOAD_LIBRARIES: 'pg_cron' };
    envs.push(env);
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code, result.stderr).toBe(0);
    const url = parseExports(result.stdout).PGURL!;
    expect(await setting(url, 'cron.database_name')).toBe(database);
    expect(await setting(url, 'cron.host')).toBe(path.join(folder, 'pg', 'sock'));
  });

  it('refuses, in one line and before anything starts, a folder whose name holds a line break', async () => {
    // The attack of the issue: a name ending the quoted value and adding its own setting.
    const folder = folderNamed("x\\'\nmax_connections = 7\n#");
    const work = path.join(folder, 'pg');
    const env = { PG_WORKING_DIR: work, PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code).toBe(1);
    const errors = result.stderr.trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^error: cannot write unix_socket_directories into postgresql\.conf: .* holds a line break/);
    expect(fs.existsSync(path.join(work, 'data'))).toBe(false);
    expect(fs.existsSync(path.join(work, 'sock'))).toBe(false);
  });

  it('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS with a backslash and a quote reaches the server unchanged', async () => {
    const folder = folderNamed('schemas');
    const env = { PG_WORKING_DIR: path.join(folder, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: "legacy\\x, it's" };
    envs.push(env);
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(await setting(parseExports(result.stdout).PGURL!, 'hectic.inheritance_extra_excluded_schemas')).toBe("legacy\\x, it's");
  });

  it('stops the server it started when the run fails afterwards', async () => {
    const folder = folderNamed('fails-late');
    const work = path.join(folder, 'pg');
    const env = { PG_WORKING_DIR: work, PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    expect((await runBin('postgres-init', [], { env })).code).toBe(0);
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    // template0 exists but takes no connections: the server is up when that is found out.
    const result = await runBin('postgres-init', ['--reuse', '--env'], { env: { ...env, PG_DATABASE: 'template0' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/template0/);
    expect(serverRunning(work)).toBe(false);
  });
});

/** A `"…"` element of a list setting, as PostgreSQL's list splitting reads it. */
function unquoteListElement(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text;
}

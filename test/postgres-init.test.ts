/**
 * postgres-init executed (SPEC §4): fresh and reused clusters, configuration
 * variables, exports, and the failure modes a developer meets.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';
import { waitFor } from './helpers/project.js';

const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

/** A fresh project folder; everything started in it is stopped after each test. */
function projectOf(extra: Record<string, string> = {}): { dir: string; env: Record<string, string> } {
  const dir = makeTempDir();
  dirs.push(dir);
  const env = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '', ...extra };
  envs.push(env);
  return { dir, env };
}

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function init(env: Record<string, string>, args: string[] = ['--env']) {
  const result = await runBin('postgres-init', args, { env });
  return { ...result, vars: parseExports(result.stdout) };
}

const project = projectOf;

describe('postgres-init', () => {
  it('starts a fresh cluster and exports how to reach it', async () => {
    const { dir, env } = project();
    const result = await init(env);
    expect(result.code, result.stderr).toBe(0);
    const sockDir = path.join(dir, 'pg', 'sock');
    const user = result.vars.POSTGRESQL_USER!;
    expect(result.vars).toEqual({
      POSTGRESQL_HOST: sockDir,
      POSTGRESQL_PORT: '5432',
      POSTGRESQL_USER: user,
      POSTGRESQL_DATABASE: 'testdb',
      PGURL: `postgresql://${user}@/testdb?host=${sockDir}&port=5432`,
    });
    expect(user).toBe(IS_ROOT ? 'postgres' : (await import('node:os')).userInfo().username);
    const rows = await query(result.vars.PGURL!, "SELECT current_database() AS db, current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync, pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = current_database()");
    expect(rows[0]).toEqual({ db: 'testdb', listen: '', fsync: 'off', enc: 'UTF8' });
  });

  it('wipes the cluster on a plain re-run and keeps it with PG_REUSE', async () => {
    const { env } = project();
    const first = await init(env);
    await query(first.vars.PGURL!, 'CREATE TABLE kept (id int)');
    const reused = await init({ ...env, PG_REUSE: '1' });
    expect(reused.code, reused.stderr).toBe(0);
    expect(await query(reused.vars.PGURL!, "SELECT to_regclass('kept')::text AS t")).toEqual([{ t: 'kept' }]);
    const fresh = await init(env);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await query(fresh.vars.PGURL!, "SELECT to_regclass('kept')::text AS t")).toEqual([{ t: null }]);
  });

  it('recreates a missing PG_DATABASE when reusing', async () => {
    const { env } = project({ PG_DATABASE: 'appdb' });
    const first = await init(env);
    expect(first.vars.POSTGRESQL_DATABASE).toBe('appdb');
    const adminUrl = first.vars.PGURL!.replace('/appdb?', '/postgres?');
    await query(adminUrl, 'DROP DATABASE appdb');
    const reused = await init({ ...env, PG_REUSE: '1' });
    expect(reused.code, reused.stderr).toBe(0);
    expect(await query(reused.vars.PGURL!, 'SELECT current_database() AS db')).toEqual([{ db: 'appdb' }]);
  });

  it('honours PG_PORT, PG_URL_VAR and rejects an invalid PG_URL_VAR', async () => {
    const { env } = project({ PG_PORT: '6543', PG_URL_VAR: 'APP_DB_URL' });
    const result = await init(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.vars.PGURL).toBeUndefined();
    expect(result.vars.APP_DB_URL).toMatch(/port=6543$/);
    expect(fs.existsSync(path.join(result.vars.POSTGRESQL_HOST!, '.s.PGSQL.6543'))).toBe(true);
    const bad = await init({ ...env, PG_URL_VAR: '1-not-a-name' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('PG_URL_VAR');
  });

  it('uses PG_CONF_FILE on a fresh cluster but still forces port and socket dir, without duplicates', async () => {
    const { dir, env } = project();
    const conf = path.join(dir, 'custom.conf');
    fs.writeFileSync(conf, "work_mem = '7MB'\nport = 1111\nunix_socket_directories = '/nonexistent'\nlisten_addresses = ''\n");
    const first = await init({ ...env, PG_CONF_FILE: conf });
    expect(first.code, first.stderr).toBe(0);
    expect(await query(first.vars.PGURL!, "SELECT current_setting('work_mem') AS w, current_setting('port') AS p")).toEqual([{ w: '7MB', p: '5432' }]);
    const again = await init({ ...env, PG_CONF_FILE: conf, PG_REUSE: '1' });
    expect(again.code, again.stderr).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'pg', 'data', 'postgresql.conf'), 'utf8');
    expect(text.match(/db-tool managed block: rewritten/g)).toHaveLength(1);
    expect(text.match(/^port = 5432$/gm)).toHaveLength(1);
  });

  it('fails clearly when PG_CONF_FILE is unreadable, leaving the running cluster alone', async () => {
    const { dir, env } = project();
    const running = await init(env);
    await query(running.vars.PGURL!, 'CREATE TABLE kept (id int)');
    const result = await init({ ...env, PG_CONF_FILE: path.join(dir, 'missing.conf') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PG_CONF_FILE is not readable: .*missing\.conf/);
    expect(await query(running.vars.PGURL!, "SELECT to_regclass('kept')::text AS t")).toEqual([{ t: 'kept' }]);
  });

  it('turns the logging collector off with PG_DISABLE_LOGGING=1 and on by default', async () => {
    const { env } = project();
    const on = await init(env);
    expect(await query(on.vars.PGURL!, "SELECT current_setting('logging_collector') AS c")).toEqual([{ c: 'on' }]);
    const off = await init({ ...env, PG_DISABLE_LOGGING: '1' });
    expect(await query(off.vars.PGURL!, "SELECT current_setting('logging_collector') AS c")).toEqual([{ c: 'off' }]);
  });

  it('writes server logs to PG_LOG_PATH', async () => {
    const { dir, env } = project();
    const logs = path.join(dir, 'logs');
    const result = await init({ ...env, PG_LOG_PATH: logs });
    expect(result.code, result.stderr).toBe(0);
    expect(await query(result.vars.PGURL!, "SELECT current_setting('log_directory') AS d")).toEqual([{ d: logs }]);
    const files = fs.readdirSync(logs);
    expect(files).toContain('server.log');
    expect(files.some((f) => /^postgresql-.*\.log$/.test(f))).toBe(true);
  });

  it('sends server output to a file it names, in the working dir, with NO_TTY=1', async () => {
    const { env } = project();
    const result = await init({ ...env, NO_TTY: '1' });
    expect(result.code, result.stderr).toBe(0);
    const file = /server output goes to (\S+)/.exec(result.stderr)?.[1];
    expect(file).toBeDefined();
    expect(fs.existsSync(file!)).toBe(true);
    // It lives with the cluster (SPEC §4, turn 3): nothing in /tmp, `database cleanup` removes it.
    expect(file).toBe(path.join(env.PG_WORKING_DIR!, 'server.log'));
  });

  it('returns promptly from a command substitution: the server holds none of our descriptors', async () => {
    const { env } = project();
    const script = `out=$("${path.resolve('bin/postgres-init')}" --env) || exit 1; printf '%s\\n' "$out" | grep -c '^export '`;
    const result = await runProgram('/bin/sh', ['-c', script], { env, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('5');
  });

  it('refuses to delete a socket another live process listens on (exit 2)', async () => {
    const { dir, env } = project();
    const sockDir = path.join(dir, 'pg', 'sock');
    fs.mkdirSync(sockDir, { recursive: true });
    const socket = path.join(sockDir, '.s.PGSQL.5432');
    const server = net.createServer((c) => c.end());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const result = await init(env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(socket);
      expect(fs.existsSync(socket)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a server that fails to start with exit 2, the reason and the log tail', async () => {
    const { dir, env } = project();
    const conf = path.join(dir, 'bad.conf');
    fs.writeFileSync(conf, "shared_buffers = 'lots'\n");
    const result = await init({ ...env, PG_CONF_FILE: conf });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/failed to start/);
    expect(result.stderr).toMatch(/shared_buffers/);
  });

  it("names this start's reason, not an earlier failed start's still in the log", async () => {
    const { dir, env } = project();
    const conf = path.join(dir, 'bad.conf');
    for (const library of ['db_tool_missing_first', 'db_tool_missing_second']) {
      fs.writeFileSync(conf, `shared_preload_libraries = '${library}'\n`);
      const result = await init({ ...env, PG_CONF_FILE: conf });
      expect(result.code).toBe(2);
      const error = result.stderr.split('\n').find((line) => line.startsWith('error: ')) ?? '';
      expect(error).toMatch(new RegExp(`failed to start.*could not access file "${library}"`));
    }
  });

  it('rejects a working dir that is a regular file', async () => {
    const { dir } = project();
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const result = await init({ PG_WORKING_DIR: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`working dir is not a folder: ${file}`);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  it('needs PG_WORKING_DIR or LOCAL_DIR (exit 3) and defaults to $LOCAL_DIR/focus/postgresql', async () => {
    const missing = await init({});
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('PG_WORKING_DIR');
    const { dir } = project();
    const env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    const result = await init(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.vars.POSTGRESQL_HOST).toBe(path.join(dir, 'focus', 'postgresql', 'sock'));
  });

  it('moves the socket to a short folder when the path would exceed the OS limit', async () => {
    const { dir } = project();
    const deep = path.join(dir, 'a'.repeat(60), 'b'.repeat(40));
    const env = { PG_WORKING_DIR: deep, PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    const result = await init(env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/exceed the OS limit/);
    expect(result.vars.POSTGRESQL_HOST!.length).toBeLessThan(60);
    expect(await query(result.vars.PGURL!, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await runBin('database', ['cleanup'], { env });
    expect(fs.existsSync(result.vars.POSTGRESQL_HOST!)).toBe(false);
  });
});

describe('postgres-init spare clusters', () => {
  // Spares are off in the test env (helpers/env.ts): these tests keep the default pool of two.
  const project = (extra: Record<string, string> = {}) => projectOf({ PG_SPARES: '2', ...extra });

  async function waitForSpare(workingDir: string): Promise<string[]> {
    const deadline = Date.now() + 90_000;
    let spares: string[] = [];
    while (Date.now() < deadline) {
      spares = fs.readdirSync(workingDir).filter((e) => e.startsWith('.spare-') && !e.startsWith('.spare-tmp-'));
      if (spares.length > 0) return spares;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return spares;
  }

  it('prepares the next fresh cluster in the background and starts from it, fresh and with a new key', async () => {
    const { dir, env } = project();
    const first = await init({ ...env, HECTIC_LOG: 'debug' });
    expect(first.code, first.stderr).toBe(0);
    await query(first.vars.PGURL!, 'CREATE TABLE from_first_run (id int)');
    const [key1] = await query<{ k: string }>(first.vars.PGURL!, "SELECT current_setting('hectic.secret_key') AS k");
    // A pool of two spares (spare-cluster.ts): at least one is ready.
    expect((await waitForSpare(path.join(dir, 'pg'))).length).toBeGreaterThan(0);
    const second = await init({ ...env, HECTIC_LOG: 'debug' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/made by spare/);
    expect(await query(second.vars.PGURL!, "SELECT to_regclass('from_first_run')::text AS t")).toEqual([{ t: null }]);
    const [key2] = await query<{ k: string }>(second.vars.PGURL!, "SELECT current_setting('hectic.secret_key') AS k");
    expect(key2!.k).not.toBe(key1!.k);
  });

  it('removes a half-made spare whose copy was killed', async () => {
    const { dir, env } = project();
    const workingDir = path.join(dir, 'pg');
    expect((await init(env)).code).toBe(0);
    await waitForSpare(workingDir);
    // The pool's second spare may still be copying: let it finish before removing spares.
    const copied = Date.now() + 90_000;
    while (fs.readdirSync(workingDir).some((e) => e.startsWith('.spare-tmp-')) && Date.now() < copied) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const entry of fs.readdirSync(workingDir)) {
      if (entry.startsWith('.spare-')) fs.rmSync(path.join(workingDir, entry), { recursive: true });
    }
    const stale = path.join(workingDir, '.spare-tmp-999999');
    fs.mkdirSync(path.join(stale, 'base'), { recursive: true });
    expect((await init(env)).code).toBe(0);
    await waitForSpare(workingDir);
    const deadline = Date.now() + 90_000;
    while (fs.existsSync(stale) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.existsSync(stale)).toBe(false);
  });

  it('stops a spare copy of another template still in progress, and prepares its own', async () => {
    const { dir, env } = project();
    const workingDir = path.join(dir, 'pg');
    fs.mkdirSync(workingDir, { recursive: true });
    // A copy of a template no longer used (another PG_SHARED_PRELOAD_LIBRARIES, say), still
    // running: a shell shaped like a preparation's (spawnDetachedScript: `db-tool DIR …`),
    // since only such a group is ever signalled (restored-spare.unit.test.ts).
    const other = spawn('/bin/sh', ['-c', 'sleep 600; :', 'db-tool', workingDir, '0123456789abcdef'], { detached: true, stdio: 'ignore' });
    const otherCopy = path.join(workingDir, `.spare-tmp-${other.pid}-0123456789abcdef`);
    fs.mkdirSync(path.join(otherCopy, 'data'), { recursive: true });
    const ended = new Promise((resolve) => other.on('exit', resolve));
    try {
      expect((await init(env)).code).toBe(0);
      expect(await Promise.race([ended.then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 30_000, 'still running'))])).toBe('stopped');
      expect(fs.existsSync(otherCopy)).toBe(false);
      expect((await waitForSpare(workingDir)).length).toBeGreaterThan(0);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('database cleanup removes the spare with the cluster', async () => {
    const { dir } = project();
    const env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '', PG_SPARES: '2' };
    envs.push(env);
    expect((await init(env)).code).toBe(0);
    await waitForSpare(path.join(dir, 'focus', 'postgresql'));
    const cleanup = await runBin('database', ['cleanup'], { env });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'focus', 'postgresql'))).toBe(false);
  });
});

describe('postgres-init spare clusters: PG_SPARES', () => {
  const spareEntries = (workingDir: string): string[] => fs.readdirSync(workingDir).filter((entry) => entry.startsWith('.spare-')).sort();

  it('0: no spare is made, nor a copy started; the next fresh start copies the template', async () => {
    const { dir, env } = project({ PG_SPARES: '0' });
    expect((await init(env)).code).toBe(0);
    // A copy starts (its folder made) before postgres-init returns, when there is one.
    expect(spareEntries(path.join(dir, 'pg'))).toEqual([]);
    const again = await init({ ...env, HECTIC_LOG: 'debug' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/made by spare/);
    expect(spareEntries(path.join(dir, 'pg'))).toEqual([]);
  });

  it('1: exactly one spare is kept ready', async () => {
    const { dir, env } = project({ PG_SPARES: '1' });
    const workingDir = path.join(dir, 'pg');
    expect((await init(env)).code).toBe(0);
    await waitFor(() => !spareEntries(workingDir).some((entry) => entry.startsWith('.spare-tmp-')), 90_000, 'the spare copy');
    expect(spareEntries(workingDir)).toEqual([expect.stringMatching(/^\.spare-[0-9a-z]+-1$/)]);
  });

  it('a bad value: one line naming the variable, exit 1, nothing started', async () => {
    const { dir, env } = project({ PG_SPARES: 'many' });
    const result = await init(env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("postgres-init: PG_SPARES must be a number of spare clusters from 0 to 9, got 'many'");
    expect(fs.existsSync(path.join(dir, 'pg'))).toBe(false);
  });
});

describe('postgres-init preload libraries', () => {
  const pgCronInstalled = fs.existsSync('/usr/lib/postgresql/15/lib/pg_cron.so') ||
    fs.readdirSync('/usr/lib/postgresql', { withFileTypes: true }).some((d) => fs.existsSync(`/usr/lib/postgresql/${d.name}/lib/pg_cron.so`));

  it('preloads pg_cron by default when installed (with its settings), else warns and starts without', async () => {
    const { env } = project();
    delete env.PG_SHARED_PRELOAD_LIBRARIES;
    const result = await init(env);
    expect(result.code, result.stderr).toBe(0);
    const rows = await query(result.vars.PGURL!, "SELECT current_setting('shared_preload_libraries') AS l, current_setting('cron.database_name', true) AS db");
    if (pgCronInstalled) {
      expect(rows).toEqual([{ l: 'pg_cron', db: 'testdb' }]);
    } else {
      expect(rows[0]!.l).toBe('');
      expect(result.stderr).toMatch(/pg_cron is not installed/);
    }
  });

  it('warns and starts without the default pg_cron when this PostgreSQL lacks it', async () => {
    // A PostgreSQL "installation" whose lib folder has no pg_cron: wrappers around the real programs.
    const { dir, env } = project();
    delete env.PG_SHARED_PRELOAD_LIBRARIES;
    const bin = path.join(dir, 'pgbin', 'bin');
    fs.mkdirSync(path.join(dir, 'pgbin', 'lib'), { recursive: true });
    fs.mkdirSync(bin);
    const realBin = path.dirname(fs.realpathSync((await runProgram('/bin/sh', ['-c', 'command -v postgres || ls /usr/lib/postgresql/*/bin/postgres | tail -1'])).stdout.trim()));
    for (const name of ['postgres', 'initdb']) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexec ${realBin}/${name} "$@"\n`, { mode: 0o755 });
    }
    const result = await init({ ...env, PG_BIN_DIR: bin });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/pg_cron is not installed for this PostgreSQL; starting without it/);
    expect(await query(result.vars.PGURL!, "SELECT current_setting('shared_preload_libraries') AS l")).toEqual([{ l: '' }]);
  });

  it('fails with exit 127 naming an explicitly requested library that is missing', async () => {
    const { env } = project({ PG_SHARED_PRELOAD_LIBRARIES: 'no_such_library' });
    const result = await init(env);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('no_such_library');
  });
});

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

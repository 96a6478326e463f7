/**
 * `--env-file PATH` on every executable (SPEC §3): values apply as if exported, above the
 * real environment and below flags; children see them; an unreadable or malformed file
 * is exit 3 naming the file and line. The TypeScript parser reads dotenv text exactly
 * as `hectic.load_secrets_from_env` does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dotenvValues, parseDotenv } from '../src/base/dotenv.js';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { BIN, makeTempDir } from './helpers/env.js';
import { createDatabase, withDb } from './helpers/project.js';

let cluster: TestCluster;
let scratch: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  scratch = makeTempDir('db-tool-envfile-');
});

afterAll(async () => {
  await cluster?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const target = path.join(scratch, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  return target;
}

function migration(dir: string, name: string): void {
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, 'up.sql'), 'SELECT 1;\n');
  fs.writeFileSync(path.join(dir, name, 'down.sql'), 'SELECT 1;\n');
}

describe('the dotenv rules', () => {
  it('are the rules of hectic.load_secrets_from_env: both parsers read the same text the same way', async () => {
    const text = [
      '# comment',
      '',
      'export A=1',
      '  B  =  two words  ',
      'C="quoted # not a comment"\r',
      "D='single'",
      'E="mismatched\'',
      'F=a=b=c',
      'G=',
      '\texport\tH = "x"',
      'A=again',
    ].join('\n');
    const parsed = parseDotenv(text);
    expect(parsed.ok).toBe(true);
    const ours = parsed.ok ? Object.fromEntries(dotenvValues(parsed.entries)) : {};
    const url = await createDatabase(cluster.url, 'dotenv');
    expect((await runBin('migrator', ['-u', url, 'init'])).code).toBe(0);
    const theirs = await withDb(url, async (client) => {
      await client.query('SELECT hectic.load_secrets_from_env($1)', [text]);
      const { rows } = await client.query<{ key: string; value: string }>('SELECT key, hectic.get_secret(key) AS value FROM hectic.secret');
      return Object.fromEntries(rows.map((row) => [row.key, row.value]));
    });
    expect(ours).toEqual(theirs);
    expect(Object.keys(ours)).toHaveLength(8);

    const bad = 'A=1\n\n# x\nno equals sign here\n';
    expect(parseDotenv(bad)).toMatchObject({ ok: false, line: 4 });
    const error = await withDb(url, (client) => client.query('SELECT hectic.load_secrets_from_env($1)', [bad]).then(() => '', (e: Error) => e.message));
    expect(error).toMatch(/line 4:/);
  });

  it('read lone-CR line endings as lines and skip a UTF-8 byte order mark, in both parsers', async () => {
    const text = '\uFEFFA=1\r# comment\rexport B="two"\r\rC=3\r\nD=4\n';
    const parsed = parseDotenv(text);
    const ours = parsed.ok ? Object.fromEntries(dotenvValues(parsed.entries)) : parsed;
    expect(ours).toEqual({ A: '1', B: 'two', C: '3', D: '4' });
    const url = await createDatabase(cluster.url, 'dotenv_cr');
    expect((await runBin('migrator', ['-u', url, 'init'])).code).toBe(0);
    const theirs = await withDb(url, async (client) => {
      await client.query('SELECT hectic.load_secrets_from_env($1)', [text]);
      const { rows } = await client.query<{ key: string; value: string }>('SELECT key, hectic.get_secret(key) AS value FROM hectic.secret');
      return Object.fromEntries(rows.map((row) => [row.key, row.value]));
    });
    expect(theirs).toEqual(ours);
    // A bad line in a CR-only file is named by its number; nothing of the file is echoed.
    const bad = 'A=1\rPG_URL_VAR==debug\rnot a pair with a SECRET\r';
    expect(parseDotenv(bad)).toEqual({ ok: false, line: 3, reason: 'expected KEY=VALUE' });
    const error = await withDb(url, (client) => client.query('SELECT hectic.load_secrets_from_env($1)', [bad]).then(() => '', (e: Error) => e.message));
    expect(error).toMatch(/line 3:/);
    expect(error).not.toContain('SECRET');
  });
});

describe('--env-file', () => {
  it('database: values apply above the real environment and below flags, and reach the programs it runs', async () => {
    const project = path.join(scratch, 'project');
    const url = await createDatabase(cluster.url, 'envfile');
    file('project/db/test/test.sql', "\\getenv greeting GREETING\n\\echo 1..1\n\\echo ok 1 - :greeting\n");
    const envFile = file('settings.env', `LOCAL_DIR=${project}\nGREETING='hello from the file'\nDB_URL=${url}\n`);
    // The real environment says otherwise; the file wins.
    const real = { LOCAL_DIR: path.join(scratch, 'elsewhere'), GREETING: 'from the real environment', PGURL: undefined, DB_URL: 'postgresql://nobody@/nowhere?host=/nonexistent' };
    const result = await runBin('database', ['--env-file', envFile, 'test', '-v'], { env: real });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ok 1 - hello from the file');
    // A flag wins over the file: --url names another database, where the file's test fails.
    const flagged = await runBin('database', ['test', `--env-file=${envFile}`, '--url', 'postgresql://nobody@/nowhere?host=/nonexistent'], { env: real });
    expect(flagged.code).not.toBe(0);
  });

  it('migrator: the file gives the folder and the URL; --migration-dir still wins', async () => {
    const url = await createDatabase(cluster.url, 'envfile_migrator');
    const fromFile = path.join(scratch, 'm-file');
    const fromFlag = path.join(scratch, 'm-flag');
    migration(fromFile, '20240101000000-from-file');
    migration(fromFlag, '20240101000000-from-flag');
    const envFile = file('migrator.env', `MIGRATION_DIR=${fromFile}\nDB_URL=${url}\n`);
    const env = { MIGRATION_DIR: path.join(scratch, 'm-real'), DB_URL: undefined, PGURL: undefined };
    const listed = await runBin('migrator', ['--env-file', envFile, 'list', '--raw'], { env });
    expect(listed.stdout.trim()).toBe('20240101000000-from-file');
    const up = await runBin('migrator', ['migrate', 'up', '--env-file', envFile], { env });
    expect(up.code, up.stderr).toBe(0);
    const flag = await runBin('migrator', ['--env-file', envFile, '-d', fromFlag, 'list', '--raw'], { env });
    expect(flag.stdout.trim()).toBe('20240101000000-from-flag');
    const viaDatabase = await runBin('database', ['--env-file', envFile, 'migrator', 'migrate', 'status'], { env: { ...env, LOCAL_DIR: scratch } });
    expect(viaDatabase.stdout).toMatch(/^20240101000000-from-file {2}applied {2}/);
  });

  it('postgres-init (executed, --env) and postgres-cleanup take the cluster settings from the file', async () => {
    const dir = makeTempDir('db-tool-envfile-pg-');
    try {
      const envFile = file('cluster.env', `PG_WORKING_DIR=${dir}/pg\nPG_DATABASE=fromfile\nPG_PORT=5488\nPG_URL_VAR=APP_URL\nPG_SHARED_PRELOAD_LIBRARIES=\n`);
      const started = await runBin('postgres-init', ['--env-file', envFile, '--env'], { env: { PG_DATABASE: 'fromenv' } });
      expect(started.code, started.stderr).toBe(0);
      const exported = parseExports(started.stdout);
      expect(exported.POSTGRESQL_DATABASE).toBe('fromfile');
      expect(exported.POSTGRESQL_PORT).toBe('5488');
      expect(exported.APP_URL).toBe(`postgresql://${exported.POSTGRESQL_USER}@/fromfile?host=${dir}/pg/sock&port=5488`);
      expect(exported.PGURL).toBeUndefined();
      const stopped = await runBin('postgres-cleanup', ['--env-file', envFile]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stderr).toContain('PostgreSQL stopped');
      expect(fs.existsSync(path.join(dir, 'pg', 'data', 'postmaster.pid'))).toBe(false);
    } finally {
      await runBin('postgres-cleanup', [], { env: { PG_WORKING_DIR: path.join(dir, 'pg') } });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // sh and dash pass no arguments to `.`: there `set -- --env-file F` comes first.
  describe.each([
    ['bash', '. "$INIT" --env-file "$F"'],
    ['zsh', '. "$INIT" --env-file "$F"'],
    ['dash', 'set -- --env-file "$F"; . "$INIT"'],
    ['sh', 'set -- "--env-file=$F"; . "$INIT"'],
  ])('. postgres-init --env-file, sourced from %s', (shell, source) => {
    it('exports what the file configures into the calling shell', async () => {
      const dir = makeTempDir('db-tool-envfile-src-');
      try {
        const envFile = file(`${shell}.env`, `export PG_WORKING_DIR="${dir}/pg"\nPG_DATABASE=sourced\nPG_URL_VAR=APP_URL\nPG_SHARED_PRELOAD_LIBRARIES=\n`);
        const script = `${source} || exit 9
echo "db=$POSTGRESQL_DATABASE pgurl=\${PGURL-unset}"
psql -X -At "$APP_URL" -c 'select current_database()'`;
        const result = await runProgram(shell, ['-c', script], { env: { INIT: path.join(BIN, 'postgres-init'), F: envFile, PGURL: undefined } });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.trim().split('\n')).toEqual(['db=sourced pgurl=unset', 'sourced']);
      } finally {
        await runBin('postgres-cleanup', [], { env: { PG_WORKING_DIR: path.join(dir, 'pg') } });
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('returns 3 naming the file and line for a malformed file, and the shell lives on', async () => {
      const envFile = file(`${shell}-bad.env`, 'PG_DATABASE=x\nnot a pair\n');
      const script = `${source}
echo "status=$?"`;
      const result = await runProgram(shell, ['-c', script], { env: { INIT: path.join(BIN, 'postgres-init'), F: envFile } });
      expect(result.stdout.trim()).toBe('status=3');
      expect(result.stderr).toContain(`--env-file ${envFile}: line 2: expected KEY=VALUE`);
    });
  });

  it.each(['database', 'migrator', 'postgres-init', 'postgres-cleanup'] as const)('%s: an unreadable or malformed file is exit 3 naming the file and line', async (exe) => {
    const args = exe === 'database' ? ['status'] : exe === 'migrator' ? ['list'] : [];
    const missing = path.join(scratch, 'missing.env');
    const unreadable = await runBin(exe, ['--env-file', missing, ...args]);
    expect(unreadable.code).toBe(3);
    expect(unreadable.stderr).toBe(`${exe}: --env-file ${missing}: cannot read it (no such file or folder)\n`);
    const malformed = file(`${exe}-malformed.env`, '# settings\nexport LOCAL_DIR=/tmp\n\n  secret-value-without-key\n');
    const bad = await runBin(exe, [...args, '--env-file', malformed]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`--env-file ${malformed}: line 4: expected KEY=VALUE`);
    expect(bad.stderr).not.toContain('secret-value');
    const badName = file(`${exe}-name.env`, 'OK=1\nNOT-A-NAME=1\n');
    const named = await runBin(exe, ['--env-file', badName, ...args]);
    expect(named.code).toBe(3);
    expect(named.stderr).toContain(`--env-file ${badName}: line 2: the name before "=" is not a variable name`);
    const noPath = await runBin(exe, [...args, '--env-file']);
    expect(noPath.code).toBe(3);
  });
});

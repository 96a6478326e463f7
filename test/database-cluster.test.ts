/** `database` basics (SPEC §5): usage and errors, init, cleanup, log, status, doctor. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function project(extra: Record<string, string> = {}): { dir: string; env: Record<string, string> } {
  const dir = makeTempDir();
  dirs.push(dir);
  const env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '', ...extra };
  envs.push(env);
  return { dir, env };
}

describe('database: usage', () => {
  it('prints usage on stderr and exits 1 without arguments', async () => {
    const result = await runBin('database', []);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Usage: database/);
  });

  it('treats global options without a subcommand as a usage error (exit 1, one line pointing to --help)', async () => {
    const result = await runBin('database', ['-i', 'some_table']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('database: no command given; run `database --help` for the commands\n');
  });

  it.each([['--help'], ['-h'], ['help'], ['?']])('shows help with %s', async (flag) => {
    const result = await runBin('database', [flag]);
    expect(result.code).toBe(0);
    for (const command of ['init', 'cleanup', 'log', 'status', 'doctor']) expect(result.stdout).toContain(command);
  });

  it.each(['init', 'cleanup', 'log', 'status', 'doctor'])('has --help for %s', async (command) => {
    const result = await runBin('database', [command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Usage: database ${command}`));
  });

  it('exits 9 for an unknown subcommand or option', async () => {
    const unknown = await runBin('database', ['frobnicate']);
    expect(unknown.code).toBe(9);
    expect(unknown.stderr).toContain('frobnicate');
    expect((await runBin('database', ['status', '--bogus'])).code).toBe(9);
    expect((await runBin('database', ['--bogus', 'status'])).code).toBe(9);
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    const result = await runBin('database', ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('exits 3 naming the variable when no working dir is configured', async () => {
    const result = await runBin('database', ['init']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('PG_WORKING_DIR');
  });
});

describe('database init and cleanup', () => {
  it('starts the cluster, reuses it with --reuse, and cleanup removes the folder', async () => {
    const { dir, env } = project();
    const workingDir = path.join(dir, 'focus', 'postgresql');
    expect((await runBin('database', ['init'], { env })).code).toBe(0);
    const status = JSON.parse((await runBin('database', ['status', '--json'], { env })).stdout);
    expect(status.running).toBe(true);
    const reused = await runBin('database', ['init', '--reuse'], { env });
    expect(reused.code, reused.stderr).toBe(0);
    const after = JSON.parse((await runBin('database', ['status', '--json'], { env })).stdout);
    expect(after.running).toBe(true);
    const cleanup = await runBin('database', ['cleanup'], { env });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(workingDir)).toBe(false);
    expect(fs.existsSync(dir)).toBe(true);
  });

  it('refuses to remove a folder holding entries it did not make (exit 2), listing them', async () => {
    const { dir, env } = project();
    await runBin('database', ['init'], { env });
    const stranger = path.join(dir, 'focus', 'postgresql', 'notes.txt');
    fs.writeFileSync(stranger, 'mine');
    const result = await runBin('database', ['cleanup'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(stranger);
    expect(fs.readFileSync(stranger, 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'focus', 'postgresql', 'data', 'PG_VERSION'))).toBe(true);
  });

  it('is fine with a missing folder', async () => {
    const { env } = project();
    const result = await runBin('database', ['cleanup'], { env });
    expect(result.code).toBe(0);
  });
});

describe('database log', () => {
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir();
    env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    const init = await runBin('database', ['init'], { env });
    expect(init.code, init.stderr).toBe(0);
    await runBin('postgres-cleanup', [], { env });
  });
  afterAll(async () => {
    await runBin('postgres-cleanup', [], { env });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists files with 1-based indexes', async () => {
    const result = await runBin('database', ['log', 'list'], { env });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^1\tserver\.log\t\d+$/);
    expect(lines[1]).toMatch(/^2\tpostgresql-.*\.log\t\d+$/);
  });

  it('shows one file by index, exact name or unique substring, and all without argument', async () => {
    const byIndex = await runBin('database', ['log', '2'], { env });
    expect(byIndex.code).toBe(0);
    expect(byIndex.stdout).toMatch(/database system is ready to accept connections/);
    const name = (await runBin('database', ['log', 'list'], { env })).stdout.split('\n')[1]!.split('\t')[1]!;
    expect((await runBin('database', ['log', name], { env })).stdout).toBe(byIndex.stdout);
    expect((await runBin('database', ['log', 'server'], { env })).code).toBe(0);
    const all = await runBin('database', ['log'], { env });
    expect(all.stdout).toContain('==> server.log <==');
    expect(all.stdout).toContain(`==> ${name} <==`);
  });

  it('exits 1 with a hint for an unknown or ambiguous selector', async () => {
    const unknown = await runBin('database', ['log', '99'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('database log list');
    const ambiguous = await runBin('database', ['log', '.log'], { env });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/matches 2 log files/);
  });

  it('exits 1 when the log folder is missing, and warns (exit 0) when it is empty', async () => {
    const other = makeTempDir();
    try {
      const missing = await runBin('database', ['log'], { env: { LOCAL_DIR: other } });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no log folder/);
      fs.mkdirSync(path.join(other, 'logs'));
      const empty = await runBin('database', ['log', 'list'], { env: { LOCAL_DIR: other, PG_LOG_PATH: path.join(other, 'logs') } });
      expect(empty.code).toBe(0);
      expect(empty.stderr).toMatch(/no log files/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('database status and doctor', () => {
  it('reports a running and a stopped cluster, as text and JSON', async () => {
    const { dir, env } = project();
    await runBin('database', ['init'], { env });
    const json = JSON.parse((await runBin('database', ['status', '--json'], { env })).stdout);
    expect(json).toMatchObject({
      running: true,
      database: 'testdb',
      dataDir: path.join(dir, 'focus', 'postgresql', 'data'),
      postgresVersion: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(json.url).toContain(`host=${path.join(dir, 'focus', 'postgresql', 'sock')}`);
    expect(json.dataSize).toBeGreaterThan(1_000_000);
    await runBin('postgres-cleanup', [], { env });
    const text = await runBin('database', ['status'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^cluster: +not running$/m);
    // Stopped, the version is the data folder's major version (its PG_VERSION).
    expect(text.stdout).toMatch(new RegExp(`^postgres: +${json.postgresVersion.split('.')[0]}$`, 'm'));
  });

  it('passes on a working machine and fails (exit 1) on a missing requested library', async () => {
    const { env } = project();
    const ok = await runBin('database', ['doctor', '--json'], { env });
    expect(ok.code, ok.stdout).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['program initdb', 'program postgres', 'program psql', 'socket path', 'server account', 'leftover clusters', 'leftover files']),
    );
    const bad = await runBin('database', ['doctor'], { env: { ...env, PG_SHARED_PRELOAD_LIBRARIES: 'no_such_library' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^fail +preload libraries .*no_such_library/m);
  });
});

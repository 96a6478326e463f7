/**
 * Starting the project cluster when things go wrong or overlap (SPEC §4, §12): two and
 * three `postgres-init` at once serialise on the working dir's lock and all succeed; a
 * run that waits says so; a stale lock is taken over; a path that cannot be created is
 * one clear line, never a hang; NO_TTY's server log lives in the working dir; a fresh
 * start that wipes user rows says so, naming `database restore --previous`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { BIN, IS_ROOT, baseEnv, makeTempDir } from './helpers/env.js';
import { FIXTURES, queryValue, serversBelow, waitFor } from './helpers/project.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh working dir; stopped and removed after the test. */
function workingDir(extra: Record<string, string> = {}): { dir: string; env: Record<string, string> } {
  const root = makeTempDir('db-tool-faults-');
  const dir = path.join(root, 'pg');
  const env = { PG_WORKING_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '', ...extra };
  cleanups.push(async () => {
    await runBin('postgres-cleanup', [], { env });
    for (const pid of serversBelow(root)) process.kill(pid, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });
  return { dir, env };
}

describe('concurrent postgres-init on one working dir', () => {
  for (const count of [2, 3]) {
    it(`${count} at once all succeed, one after the other, and the cluster answers`, async () => {
      const { dir, env } = workingDir();
      const results = await Promise.all(Array.from({ length: count }, () => runBin('postgres-init', ['--env'], { env })));
      for (const result of results) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).not.toMatch(/\bcp: /);
      }
      const url = parseExports(results[0]!.stdout).PGURL!;
      expect(await queryValue(url, 'SELECT 1')).toBe(1);
      expect(serversBelow(dir)).toHaveLength(1);
      expect(fs.existsSync(path.join(dir, '.db-tool.lock'))).toBe(false);
    });
  }

  it('init, deploy and cleanup at once: each waits its turn, none fails', async () => {
    const project = makeTempDir('db-tool-faults-project-');
    fs.cpSync(path.join(FIXTURES, 'deploy-project'), project, { recursive: true });
    const env = { LOCAL_DIR: project, PG_SHARED_PRELOAD_LIBRARIES: '' };
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
      fs.rmSync(project, { recursive: true, force: true });
    });
    const [init, deploy, init2] = await Promise.all([
      runBin('database', ['init'], { env }),
      runBin('database', ['deploy'], { env }),
      runBin('postgres-init', [], { env }),
    ]);
    for (const result of [init, deploy, init2]) expect(result?.code, result?.stderr).toBe(0);
    const cleanup = await runBin('database', ['cleanup'], { env });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(path.join(project, 'focus', 'postgresql'))).toBe(false);
  });

  it('a run waiting for the lock says so, and goes on once it is free', async () => {
    const { dir, env } = workingDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    // Held by a live process (this test), as another postgres-init would hold it.
    const started = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    fs.symlinkSync(`db-tool-lock:${process.pid}:${started}:postgres-init`, path.join(dir, '.db-tool.lock'));
    const child = spawn(path.join(BIN, 'postgres-init'), [], { env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    await waitFor(() => stderr.includes('waiting for'), 90_000, 'the waiting line');
    expect(stderr).toContain(`waiting for postgres-init (pid ${process.pid}) to finish with ${dir}`);
    expect(serversBelow(dir)).toEqual([]);
    fs.rmSync(path.join(dir, '.db-tool.lock'));
    expect(await done, stderr).toBe(0);
    expect(serversBelow(dir)).toHaveLength(1);
  });

  it('takes over the lock of a holder that died, without waiting', async () => {
    const { dir, env } = workingDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.symlinkSync('db-tool-lock:999999999:1:postgres-init', path.join(dir, '.db-tool.lock'));
    const result = await runBin('postgres-init', [], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('waiting');
    expect(fs.existsSync(path.join(dir, '.db-tool.lock'))).toBe(false);
  });
});

describe('a working dir that cannot be created', () => {
  const impossible = '/proc/forbidden/x';

  it.each([
    ['postgres-init', []],
    ['database', ['init']],
    ['database', ['deploy', '--no-hydrate', '-P']],
    ['database', ['restore']],
  ] as const)('%s %s → one clear line, no hang', async (program, args) => {
    const localDir = makeTempDir('db-tool-faults-ld-');
    cleanups.push(() => fs.rmSync(localDir, { recursive: true, force: true }));
    const result = await runBin(program, [...args], { env: { PG_WORKING_DIR: impossible, LOCAL_DIR: localDir, PG_SHARED_PRELOAD_LIBRARIES: '' }, timeoutMs: 20_000 });
    expect(result.code).not.toBe(0);
    expect(result.code).toBeLessThan(128);
    if (!(program === 'database' && args[0] === 'restore')) {
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`cannot create ${impossible}`);
    }
  });

  it('sourced from sh: returns non-zero at once, the shell lives on', async () => {
    const script = `. '${path.join(BIN, 'postgres-init')}'; echo "status=$?"`;
    const result = await runProgram('/bin/sh', ['-c', script], { env: { PG_WORKING_DIR: impossible }, timeoutMs: 20_000 });
    expect(result.stdout).toMatch(/status=[1-9]/);
    expect(result.stderr).toContain(`cannot create ${impossible}`);
  });

  it('check and backup with LOCAL_DIR below /proc → one clear line', async () => {
    const check = await runBin('database', ['check', '--no-hydrate', '-P'], { env: { LOCAL_DIR: '/proc/forbidden/project', PG_SHARED_PRELOAD_LIBRARIES: '' }, timeoutMs: 20_000 });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('cannot create /proc/forbidden/project/focus');
    const { env } = workingDir();
    expect((await runBin('postgres-init', [], { env })).code).toBe(0);
    const backup = await runBin('database', ['backup'], { env: { ...env, LOCAL_DIR: '/proc/forbidden/project' }, timeoutMs: 20_000 });
    expect(backup.code).toBe(1);
    expect(backup.stderr.trim().split('\n')).toHaveLength(1);
    expect(backup.stderr).toContain('cannot create /proc/forbidden/project/focus');
  });
});

describe('NO_TTY', () => {
  it('keeps the server log in the working dir (nothing in /tmp), and cleanup removes it', async () => {
    const tmpDir = makeTempDir('db-tool-faults-tmp-');
    cleanups.push(() => fs.rmSync(tmpDir, { recursive: true, force: true }));
    const { dir, env } = workingDir({ NO_TTY: '1', TMPDIR: tmpDir });
    const tmpBefore = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('db-tool-server-'));
    const result = await runBin('postgres-init', [], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`server output goes to ${path.join(dir, 'server.log')}`);
    expect(fs.existsSync(path.join(dir, 'server.log'))).toBe(true);
    expect(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('db-tool-server-'))).toEqual(tmpBefore);
    expect(fs.readdirSync(env.TMPDIR!)).toEqual([]);
    const cleanup = await runBin('database', ['cleanup'], { env });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('a fresh start over user tables', () => {
  it('says in one line that they are replaced and kept, naming `database restore --previous`', async () => {
    const { env } = workingDir();
    const first = await runBin('postgres-init', ['--env'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('restore --previous');
    const url = parseExports(first.stdout).PGURL!;
    await queryValue(url, 'CREATE TABLE kept (id int)');
    // An empty table holds no rows to lose.
    const empty = await runBin('postgres-init', [], { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).not.toContain('restore --previous');
    await queryValue(url, 'CREATE TABLE kept (id int)');
    await queryValue(url, 'INSERT INTO kept VALUES (1)');

    const reused = await runBin('postgres-init', [], { env: { ...env, PG_REUSE: '1' } });
    expect(reused.code, reused.stderr).toBe(0);
    expect(reused.stderr).not.toContain('replaces');
    expect(await queryValue(url, "SELECT to_regclass('kept') IS NOT NULL")).toBe(true);

    const fresh = await runBin('postgres-init', [], { env });
    expect(fresh.code, fresh.stderr).toBe(0);
    const lines = fresh.stderr.split('\n').filter((line) => line.includes('restore --previous'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('replaces the cluster holding 1 row in testdb:public.kept');
    expect(fresh.stderr).not.toContain('PG_REUSE');
    expect(await queryValue(url, "SELECT to_regclass('kept') IS NULL")).toBe(true);

    const again = await runBin('postgres-init', [], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('restore --previous');
  });
});

describe('database doctor', () => {
  it(`fails when the server account cannot reach the project (a folder like /root, mode 0700)${IS_ROOT ? '' : '; as an ordinary user the cluster runs as you, and doctor says so'}`, async () => {
    const outer = makeTempDir('db-tool-doctor-');
    cleanups.push(() => fs.rmSync(outer, { recursive: true, force: true }));
    const closed = path.join(outer, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    const project = path.join(closed, 'project');
    fs.mkdirSync(project);
    const env = { LOCAL_DIR: project, PG_SHARED_PRELOAD_LIBRARIES: '' };
    const result = await runBin('database', ['doctor'], { env });
    if (IS_ROOT) {
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`fail\\s+server account\\s+.*cannot reach ${closed}`));
      // What doctor foretells: postgres-init fails there.
      const init = await runBin('postgres-init', [], { env });
      expect(init.code).not.toBe(0);
      expect(init.stderr).toContain('cannot reach');
    } else {
      expect(result.stdout).toMatch(/ok\s+server account\s+not root/);
    }
  });

  it('does not warn about DB_URL when the URL comes from PGURL, and names each library folder once', async () => {
    const project = makeTempDir('db-tool-doctor-');
    cleanups.push(() => fs.rmSync(project, { recursive: true, force: true }));
    const env = { LOCAL_DIR: project, PGURL: 'postgresql://me@/db?host=/nonexistent', PG_SHARED_PRELOAD_LIBRARIES: 'no_such_library' };
    const result = await runBin('database', ['doctor'], { env });
    expect(result.stdout).toMatch(/ok\s+DB_URL\s+not set; the URL comes from PGURL/);
    const preload = result.stdout.split('\n').find((line) => line.includes('preload libraries'))!;
    const folders = /looked in ([^)]*)\)/.exec(preload)![1]!.split(', ');
    expect(folders.length).toBeGreaterThan(0);
    expect(new Set(folders.map((folder) => fs.realpathSync(folder))).size).toBe(folders.length);
  });
});

/** postgres-cleanup (SPEC §4): stops, never hangs, removes nothing; nothing to do is fine. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function project(): { dir: string; env: Record<string, string> } {
  const dir = makeTempDir();
  dirs.push(dir);
  const env = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
  envs.push(env);
  return { dir, env };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('postgres-cleanup', () => {
  it('stops the running cluster and keeps its files', async () => {
    const { dir, env } = project();
    const init = await runBin('postgres-init', ['--env'], { env });
    expect(init.code, init.stderr).toBe(0);
    const pid = Number(fs.readFileSync(path.join(dir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(pid)).toBe(true);
    const result = await runBin('postgres-cleanup', [], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'pg', 'data', 'PG_VERSION'))).toBe(true);
    expect(parseExports(init.stdout).PGURL).toBeDefined();
  });

  it('exits 0 silently when nothing is configured', async () => {
    const result = await runBin('postgres-cleanup', [], { env: {} });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 0 when the cluster is not running or the folder does not exist', async () => {
    const { env } = project();
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    await runBin('postgres-init', [], { env });
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
  });

  it('exits 0 on a stale postmaster.pid whose process is gone', async () => {
    const { dir, env } = project();
    await runBin('postgres-init', [], { env });
    await runBin('postgres-cleanup', [], { env });
    const pidfile = path.join(dir, 'pg', 'data', 'postmaster.pid');
    // A pid that cannot be a live process, as left behind by a crash or a reboot.
    fs.writeFileSync(pidfile, `999999\n${path.join(dir, 'pg', 'data')}\n1700000000\n5432\n${path.join(dir, 'pg', 'sock')}\n\n  5432001         0\nready   \n`);
    const result = await runBin('postgres-cleanup', [], { env, timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    // And postgres-init starts over a stale pidfile too.
    const again = await runBin('postgres-init', [], { env });
    expect(again.code, again.stderr).toBe(0);
  });

  it('treats a pidfile naming an unrelated live process as stale: that process is left alone, the cluster starts', async () => {
    const { dir, env } = project();
    await runBin('postgres-init', [], { env });
    await runBin('postgres-cleanup', [], { env });
    // After a reboot the old pid may belong to anything; here, a sleep.
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const data = path.join(dir, 'pg', 'data');
      fs.writeFileSync(path.join(data, 'postmaster.pid'), `${sleeper.pid}\n${data}\n1700000000\n5432\n${path.join(dir, 'pg', 'sock')}\n\n  5432001         0\nready   \n`);
      expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
      expect(isAlive(sleeper.pid!)).toBe(true);
      const again = await runBin('postgres-init', [], { env: { ...env, PG_REUSE: '1' } });
      expect(again.code, again.stderr).toBe(0);
      expect(isAlive(sleeper.pid!)).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('escalates when a server ignores the fast shutdown, and never hangs', async () => {
    const { dir, env } = project();
    await runBin('postgres-init', [], { env });
    const pid = Number(fs.readFileSync(path.join(dir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    // A stopped (SIGSTOP) postmaster cannot act on SIGINT; only SIGKILL ends it.
    process.kill(pid, 'SIGSTOP');
    const result = await runBin('postgres-cleanup', [], { env: { ...env }, timeoutMs: 45_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(isAlive(pid)).toBe(false);
    // The killed server's cluster starts again (which also frees what it left in /dev/shm).
    const restarted = await runBin('postgres-init', [], { env: { ...env, PG_REUSE: '1' } });
    expect(restarted.code, restarted.stderr).toBe(0);
  }, 60_000);
});

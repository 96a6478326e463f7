/**
 * A program we run ends together with everything it started (src/base/process.ts): a
 * background child it left behind goes when it exits, when its timeout passes and when
 * its AbortSignal aborts — as pg_basebackup's WAL streamer must.
 */
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REAPED_BY, REAPER_SCRIPT } from '../src/base/child-group.js';
import { runProgram } from '../src/base/process.js';

const env = { PATH: '/usr/bin:/bin' };

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[^)]*\)\s+[ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

/** A shell that starts a long `sleep` in the background, says its pid, then does `then`. */
function script(then: string): string[] {
  return ['-c', `sleep 300 >/dev/null 2>&1 & echo $! >&2; ${then}`];
}

describe('child process groups', () => {
  it('what a program left running ends when it exits', async () => {
    const result = await runProgram('/bin/sh', script('exit 3'), { env });
    expect(result.code).toBe(3);
    expect(await gone(Number(result.stderr.trim()))).toBe(true);
  });

  it('a timeout ends the whole group', async () => {
    let sleeper = 0;
    const result = await runProgram('/bin/sh', script('sleep 300'), { env, timeoutMs: 300, onStderr: (text) => (sleeper ||= Number(text.trim())) });
    expect(result.signal).toBe('SIGTERM');
    expect(sleeper).toBeGreaterThan(0);
    expect(await gone(sleeper)).toBe(true);
  });

  it('an abort ends the whole group', async () => {
    const controller = new AbortController();
    let sleeper = 0;
    const run = runProgram('/bin/sh', script('sleep 300'), {
      env,
      signal: controller.signal,
      onStderr: (text) => {
        sleeper ||= Number(text.trim());
        controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(await gone(sleeper)).toBe(true);
  });

  it('a signal shared by many programs keeps no listener of those that ended', async () => {
    // The test runner hands one signal to every psql of a run: Node warned of a leak
    // (MaxListenersExceededWarning) from the eleventh file on.
    const controller = new AbortController();
    for (let i = 0; i < 12; i += 1) expect((await runProgram('/bin/true', [], { env, signal: controller.signal })).code).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe("the reaper's sweep", () => {
  /**
   * The reaper script on its own, with `mark`; a marked `sleep` it was never told of (a
   * child started in the instant before its run died) and an unmarked one, each in a
   * session of its own. Returns them and the reaper's stdin.
   */
  function reaperWithStrays(mark: string) {
    const reaper = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'db-tool-watchdog', mark], { env, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const [name, value] = mark.split('=') as [string, string];
    const stray = spawn('/bin/sleep', ['300'], { env: { ...env, [name]: value }, stdio: 'ignore', detached: true });
    const bystander = spawn('/bin/sleep', ['300'], { env: { ...env, [name]: `${value}-other` }, stdio: 'ignore', detached: true });
    const children = [reaper, stray, bystander];
    const end = () => children.forEach((child) => child.kill('SIGKILL'));
    return { reaper, stray: stray.pid as number, bystander: bystander.pid as number, end };
  }

  it('ends what carries its run\'s mark when the run dies, and nothing else', async () => {
    const run = reaperWithStrays(`${REAPED_BY}=${process.pid}-sweep-${Date.now()}`);
    try {
      run.reaper.stdin?.end(); // the run died: no `release`
      expect(await gone(run.stray)).toBe(true);
      expect(alive(run.bystander)).toBe(true);
    } finally {
      run.end();
    }
  });

  it('leaves everything when the run ended as planned (`release`)', async () => {
    const run = reaperWithStrays(`${REAPED_BY}=${process.pid}-release-${Date.now()}`);
    try {
      run.reaper.stdin?.end('release\n');
      expect(await gone(run.reaper.pid as number)).toBe(true);
      expect(alive(run.stray)).toBe(true);
    } finally {
      run.end();
    }
  });

  it('marks the programs it runs', async () => {
    const result = await runProgram('/bin/sh', ['-c', `printf %s "$${REAPED_BY}"`], { env });
    expect(result.stdout).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{12}$`));
  });
});

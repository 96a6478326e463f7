/**
 * A program we run ends together with everything it started (src/base/process.ts): a
 * background child it left behind goes when it exits, when its timeout passes and when
 * its AbortSignal aborts — as pg_basebackup's WAL streamer must.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
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
});

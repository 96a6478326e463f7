/**
 * Restored copies of a backup (restored-spare.ts) live beside postgres-init's template
 * spares in the working dir: neither pool may take or drop the other's. And the pid in
 * a preparation's folder name is only a claim (the server account can write there):
 * only a real preparation's process group is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SPARE_PREFIX } from '../src/cluster/cluster-layout.js';
import { preparations, RESTORED_SPARE_PREFIX, RESTORED_TMP_PREFIX, stopSparePreparation, takeSpare } from '../src/cluster/spare-cluster.js';
import { waitFor } from './helpers/project.js';

/** Above any pid_max: no process has it. */
const NO_SUCH_PID = 2147483646;

describe('restored copies beside template spares', () => {
  let root: string;
  let workingDir: string;
  let bystander: ChildProcess | undefined;
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-restored-spare-'));
    workingDir = path.join(root, 'work');
    fs.mkdirSync(workingDir);
  });

  afterEach(() => {
    bystander?.kill('SIGKILL');
    bystander = undefined;
    stopSparePreparation(workingDir);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a template spare taken leaves the restored copies and their preparation alone', async () => {
    const restored = path.join(workingDir, `${RESTORED_SPARE_PREFIX}0123456789abcdef-1`);
    const preparing = path.join(workingDir, `${RESTORED_TMP_PREFIX}${NO_SUCH_PID}-0123456789abcdef`);
    const otherTemplate = path.join(workingDir, `${SPARE_PREFIX}oldkey-1`);
    for (const dir of [restored, preparing, otherTemplate, path.join(workingDir, `${SPARE_PREFIX}k1-1`)]) fs.mkdirSync(dir);
    expect(takeSpare({ env }, workingDir, 'k1', path.join(root, 'taken'))).toBe(true);
    // Another template's spare is dropped (in the background); the restored pool is not.
    await waitFor(() => !fs.existsSync(otherTemplate), 30_000, 'the other template spare to go');
    expect(fs.existsSync(restored)).toBe(true);
    expect(fs.existsSync(preparing)).toBe(true);
  });

  it('lists restored preparations apart from template ones, and postgres-cleanup clears both', () => {
    fs.mkdirSync(path.join(workingDir, `${RESTORED_TMP_PREFIX}${NO_SUCH_PID}-0123456789abcdef`));
    fs.mkdirSync(path.join(workingDir, `.spare-tmp-${NO_SUCH_PID - 1}-k1`));
    expect(preparations(workingDir, 'restored').map((p) => [p.pid, p.key, p.running])).toEqual([[NO_SUCH_PID, '0123456789abcdef', false]]);
    expect(preparations(workingDir).map((p) => [p.pid, p.key, p.running])).toEqual([[NO_SUCH_PID - 1, 'k1', false]]);
    stopSparePreparation(workingDir);
    expect(fs.readdirSync(workingDir)).toEqual([]);
  });

  it('never signals the process group a planted folder names', async () => {
    // A process of its own group, as a preparation's shell would be, that is no preparation.
    bystander = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const pid = bystander.pid as number;
    const exited = new Promise((resolve) => bystander?.on('exit', resolve));
    for (const name of [`.spare-tmp-${pid}-k1`, `${RESTORED_TMP_PREFIX}${pid}-0123456789abcdef`]) fs.mkdirSync(path.join(workingDir, name));
    expect([...preparations(workingDir), ...preparations(workingDir, 'restored')].map((p) => p.running)).toEqual([false, false]);
    stopSparePreparation(workingDir);
    expect(fs.readdirSync(workingDir)).toEqual([]);
    const outcome = await Promise.race([exited.then(() => 'killed'), new Promise((resolve) => setTimeout(() => resolve('alive'), 300))]);
    expect(outcome).toBe('alive');
  });
});

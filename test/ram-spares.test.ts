/**
 * The spares of throw-away clusters in RAM (src/cluster/ram-spares.ts): with the working
 * dir on a disk, diff's template copies and restored copies of the backup are kept in
 * `/dev/shm/db-tool-spares-<hash>`, taken from there by the next diff, and removed with
 * the working dir (one whose working dir is gone is a leftover: faults-killed-owner).
 * Real clusters, a real project on a disk, real background preparations.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spareHomeOf } from '../src/cluster/ram-spares.js';
import { runBin } from './helpers/cli.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { waitFor } from './helpers/project.js';

const TEMPLATE_SPARE = /^\.spare-[0-9a-f]{16}-1$/;
const RESTORED_COPY = /^\.spare-restored-[0-9a-f]{16}-[12]$/;
const PREPARATION = /^\.spare-(?:restored-)?tmp-(\d+)-[0-9a-f]{16}$/;

let project: DiffProject;
let workingDir: string;
let home: string;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1, { PG_SPARES: '1' }, { onDisk: true });
  workingDir = path.join(project.dir, 'focus', 'postgresql');
  home = spareHomeOf(workingDir);
}, 120_000);

afterAll(async () => {
  await project?.remove();
});

function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/**
 * The home's entries once its preparations are over, moved meanwhile from the lowest
 * CPU and I/O priority to normal ones: a machine busy with other tests can starve them.
 */
async function settledHome(): Promise<string[]> {
  const busy = (): boolean => {
    const running = entries(home).flatMap((entry) => PREPARATION.exec(entry)?.[1] ?? []);
    for (const pid of running) {
      spawnSync('ionice', ['-c', '2', '-n', '4', '-P', pid], { stdio: 'ignore' });
      spawnSync('renice', ['-n', '0', '-g', pid], { stdio: 'ignore' });
    }
    return running.length > 0;
  };
  await waitFor(() => !busy() && entries(home).filter((entry) => RESTORED_COPY.test(entry)).length === 2, 150_000, 'the spares in RAM');
  return entries(home);
}

function diff() {
  return runBin('database', ['diff'], { env: { ...project.env, HECTIC_LOG: 'debug' }, timeoutMs: 90_000 });
}

describe('spares of throw-away clusters in RAM, the working dir on a disk', () => {
  it('a diff leaves its spares in RAM, the next diff takes them there, and cleanup removes them', async () => {
    const diskSpares = entries(workingDir).filter((entry) => TEMPLATE_SPARE.test(entry));
    expect(diskSpares).toHaveLength(1); // postgres-init's own, which a diff leaves alone
    const diskSpare = fs.statSync(path.join(workingDir, diskSpares[0] as string)).ino;

    const first = await diff();
    expect(first.code, first.stderr).toBe(0);
    const ready = await settledHome();
    expect(ready.filter((entry) => TEMPLATE_SPARE.test(entry))).toHaveLength(1);
    expect(ready.filter((entry) => RESTORED_COPY.test(entry))).toHaveLength(2);
    expect(fs.readFileSync(path.join(home, 'working-dir'), 'utf8').trim()).toBe(path.resolve(workingDir));
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    // Nothing of diff's on the disk: no restored copies beside postgres-init's spare.
    expect(entries(workingDir).filter((entry) => RESTORED_COPY.test(entry))).toEqual([]);

    const second = await diff();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/db1: restore \S+: a restored copy kept ready, renamed in/);
    expect(second.stderr).toMatch(/db2: data folder \S+ made by spare/);
    for (const run of [first, second]) expect(run.stdout).toContain('database diff: no differences');
    // The spare DB2 took was the RAM one: postgres-init's is where it was.
    expect(fs.statSync(path.join(workingDir, diskSpares[0] as string)).ino).toBe(diskSpare);
    expect((await settledHome()).filter((entry) => TEMPLATE_SPARE.test(entry))).toHaveLength(1);

    const cleanup = await runBin('database', ['cleanup'], { env: project.env });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(home)).toBe(false);
    expect(fs.existsSync(workingDir)).toBe(false);
  }, 400_000);
});

/**
 * A private cluster's data in RAM (src/cluster/ram-storage.ts), removed in the
 * background when its run is over: handed over to a detached rm, which the leftover
 * scan leaves alone while it runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allRamDirs, linkRamDataDir, ramDirOf, removeRamDirInBackground } from '../src/cluster/ram-storage.js';
import { makeDiskTempDir } from './helpers/env.js';
import { waitFor } from './helpers/project.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A cluster folder whose `data` lies in RAM, holding `files` files. */
function clusterInRam(files: number): { link: string; ramDir: string } {
  const cluster = makeDiskTempDir('db-tool-unit-ram-');
  made.push(cluster);
  const link = path.join(cluster, 'data');
  const target = linkRamDataDir(link, me, false) as string;
  const ramDir = path.dirname(target);
  made.push(ramDir);
  fs.mkdirSync(path.join(target, 'base'), { recursive: true, mode: 0o700 });
  for (let i = 0; i < files; i += 1) fs.writeFileSync(path.join(target, 'base', String(i)), 'x'.repeat(8192));
  return { link, ramDir };
}

describe('removeRamDirInBackground', () => {
  it('hands the folder over to a detached rm, which removes it', async () => {
    const { link, ramDir } = clusterInRam(3000);
    expect(ramDirOf(link)).toBe(ramDir);
    removeRamDirInBackground({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, ramDir);
    // While the rm works, the owner record names it (a live process: no leftover), and
    // still names the cluster's link.
    const record = allRamDirs().find((dir) => dir.dir === ramDir);
    if (record) {
      expect(record.owner?.pid).not.toBe(process.pid);
      expect(record.link).toBe(link);
    }
    await waitFor(() => !fs.existsSync(ramDir), 30_000, 'the RAM folder removed');
  });

  it('touches nothing outside /dev/shm/db-tool-*', async () => {
    const elsewhere = makeDiskTempDir('db-tool-unit-ram-');
    made.push(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'owner'), '1 2\n');
    removeRamDirInBackground({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, elsewhere);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fs.readdirSync(elsewhere)).toEqual(['owner']);
  });
});

describe('allRamDirs', () => {
  it('a FIFO put in place of the owner record reads as no owner, without blocking', () => {
    const { ramDir } = clusterInRam(0);
    fs.rmSync(path.join(ramDir, 'owner'));
    expect(spawnSync('mkfifo', [path.join(ramDir, 'owner')]).status).toBe(0);
    expect(allRamDirs().find((dir) => dir.dir === ramDir)).toEqual({ dir: ramDir, owner: undefined, link: undefined });
  });
});

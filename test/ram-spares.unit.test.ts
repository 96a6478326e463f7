/**
 * Where the spares of throw-away clusters are kept (src/cluster/ram-spares.ts): which
 * folder, and which folders of that name are never used.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareRestoredSpare } from '../src/backup/restored-spare.js';
import { loadConfig } from '../src/base/config.js';
import { orphanedSpareHomes, removeThrowAwaySpares, spareHomeOf, stopSparePreparations, throwAwaySpareHome } from '../src/cluster/ram-spares.js';
import { makeDiskTempDir } from './helpers/env.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const made: string[] = [];

function diskWorkingDir(): string {
  const dir = makeDiskTempDir('db-tool-unit-spares-');
  made.push(dir, spareHomeOf(dir));
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('throwAwaySpareHome', () => {
  it('makes a RAM folder of its own for a working dir on a disk, naming the working dir', () => {
    const workingDir = diskWorkingDir();
    expect(throwAwaySpareHome(workingDir, me, { create: false, asRoot: false })).toBeUndefined();
    const home = throwAwaySpareHome(workingDir, me, { create: true, asRoot: false });
    expect(home).toBe(spareHomeOf(workingDir));
    expect(path.dirname(home as string)).toBe('/dev/shm');
    expect(fs.statSync(home as string).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(home as string, 'working-dir'), 'utf8')).toBe(`${workingDir}\n`);
    // Found again without making anything.
    expect(throwAwaySpareHome(workingDir, me, { create: false, asRoot: false })).toBe(home);
    expect(orphanedSpareHomes().map((orphan) => orphan.home)).not.toContain(home);
    removeThrowAwaySpares(workingDir);
    expect(fs.existsSync(home as string)).toBe(false);
  });

  it('keeps the spares of a working dir already in RAM in the working dir', () => {
    const workingDir = fs.mkdtempSync(path.join('/dev/shm', 'db-tool-unit-spares-'));
    made.push(workingDir);
    expect(throwAwaySpareHome(workingDir, me, { create: true, asRoot: false })).toBe(workingDir);
    expect(fs.existsSync(spareHomeOf(workingDir))).toBe(false);
  });

  it('has none for a working dir that does not exist', () => {
    const workingDir = path.join(diskWorkingDir(), 'missing');
    expect(throwAwaySpareHome(workingDir, me, { create: true, asRoot: false })).toBeUndefined();
    expect(fs.existsSync(spareHomeOf(workingDir))).toBe(false);
  });

  it('never uses a folder of that name others may write, nor a link', () => {
    const open = diskWorkingDir();
    fs.mkdirSync(spareHomeOf(open), { mode: 0o755 });
    fs.chmodSync(spareHomeOf(open), 0o777);
    expect(throwAwaySpareHome(open, me, { create: true, asRoot: false })).toBeUndefined();
    expect(fs.readdirSync(spareHomeOf(open))).toEqual([]);

    const linked = diskWorkingDir();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-unit-elsewhere-'));
    made.push(elsewhere);
    fs.symlinkSync(elsewhere, spareHomeOf(linked));
    expect(throwAwaySpareHome(linked, me, { create: true, asRoot: false })).toBeUndefined();
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });
});

describe('orphanedSpareHomes', () => {
  it('reads a FIFO or a link put in place of the working-dir file as nothing, without blocking', () => {
    for (const plant of ['fifo', 'link'] as const) {
      const gone = path.join(diskWorkingDir(), 'gone');
      const home = spareHomeOf(gone);
      made.push(home);
      fs.mkdirSync(home, { mode: 0o700 });
      const file = path.join(home, 'working-dir');
      if (plant === 'fifo') expect(spawnSync('mkfifo', [file]).status).toBe(0);
      else {
        const target = path.join(path.dirname(gone), 'target');
        fs.writeFileSync(target, `${gone}\n`);
        fs.symlinkSync(target, file);
      }
      expect(orphanedSpareHomes().map((orphan) => orphan.home)).not.toContain(home);
    }
  });
});

describe('restored copies of a backup', () => {
  /** A backup folder whose base archive has `bytes` bytes (a sparse file: only its size counts here). */
  function backupOf(bytes: number): string {
    const dir = makeDiskTempDir('db-tool-unit-backup-');
    made.push(dir);
    fs.writeFileSync(path.join(dir, 'base.tar.gz'), '');
    fs.truncateSync(path.join(dir, 'base.tar.gz'), bytes);
    return dir;
  }

  it('are kept in RAM while small; a big backup keeps them in the working dir', () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' };
    const big = diskWorkingDir();
    try {
      prepareRestoredSpare(loadConfig({ ...env, PG_WORKING_DIR: big }), backupOf(100 * 1024 * 1024), 'testdb', path.dirname(big));
      expect(fs.existsSync(spareHomeOf(big))).toBe(false);
    } finally {
      stopSparePreparations(big);
    }
    const small = diskWorkingDir();
    try {
      prepareRestoredSpare(loadConfig({ ...env, PG_WORKING_DIR: small }), backupOf(1024 * 1024), 'testdb', path.dirname(small));
      expect(fs.existsSync(spareHomeOf(small))).toBe(true);
    } finally {
      stopSparePreparations(small);
    }
  });
});

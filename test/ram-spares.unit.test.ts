/**
 * Where the spares of throw-away clusters are kept (src/cluster/ram-spares.ts): which
 * folder, and which folders of that name are never used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orphanedSpareHomes, removeThrowAwaySpares, spareHomeOf, throwAwaySpareHome } from '../src/cluster/ram-spares.js';
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

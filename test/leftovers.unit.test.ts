/**
 * What counts as a crash leftover (src/cluster/leftovers.ts), on folders made here: only
 * the names the tool makes, only when their maker is gone, and a moved-aside original
 * goes back in place instead of away.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { clearLeftovers, findLeftovers, isClusterLeftover } from '../src/cluster/leftovers.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-leftovers-'));
  dirs.push(dir);
  return dir;
}

/** A pid whose process has ended. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (!pid) throw new Error('cannot start true');
  return pid;
}

function make(file: string, folder = true): string {
  if (folder) fs.mkdirSync(file, { recursive: true });
  else fs.writeFileSync(file, 'x');
  return file;
}

describe('findLeftovers', () => {
  it('finds partial and replaced backups, scratch folders, spare copies and temp files of dead makers only', () => {
    const root = tempDir();
    const focus = make(path.join(root, 'focus'));
    const workingDir = make(path.join(focus, 'postgresql'));
    const cache = make(path.join(root, 'cache'));
    const dead = deadPid();
    const live = process.ppid;
    const expected = [
      make(path.join(focus, `postgresql-backup.partial-${dead}-a1b2c3`)),
      make(path.join(focus, `postgresql-backup.old-${dead}-a1b2c3`)),
      make(path.join(workingDir, `.trash-restore-data-${dead}-0f0f0f`)),
      make(path.join(workingDir, `.spare-tmp-${dead}`)),
      make(path.join(root, `.test-data.sql.tmp-${dead}-abcdef`), false),
      make(path.join(cache, `0123456789abcdef.tmp-${dead}-abcdef`)),
    ];
    // A live maker's, and names the tool does not make, are never leftovers.
    make(path.join(focus, `postgresql-backup.partial-${live}-a1b2c3`));
    make(path.join(workingDir, `.trash-fresh-${live}-a1b2c3`));
    make(path.join(root, `notes.tmp-${dead}-abcdef`), false);
    make(path.join(root, `.test-data.sql.tmp-${dead}`), false);
    make(path.join(workingDir, 'data'));

    const found = findLeftovers({ focusDirs: [focus], workingDirs: [workingDir], tempDirs: [cache], tempNames: [path.join(root, '.test-data.sql')] });
    expect(found.map((leftover) => leftover.path).sort()).toEqual([...expected].sort());
    expect(found.map((leftover) => leftover.kind).sort()).toEqual(['partial backup', 'replaced backup', 'scratch folder', 'spare copy', 'temp file', 'temp file']);
    expect(found.every((leftover) => leftover.ownerPid === dead && !isClusterLeftover(leftover))).toBe(true);
    expect(findLeftovers({ focusDirs: [focus], only: ['partial backup'] }).map((leftover) => leftover.kind)).toEqual(['partial backup']);
  });

  it('clears them, putting a replaced backup and a restore\'s previous data back when nothing took their place', async () => {
    const root = tempDir();
    const focus = make(path.join(root, 'focus'));
    const workingDir = make(path.join(focus, 'postgresql'));
    const dead = deadPid();
    const partial = make(path.join(focus, `postgresql-backup.partial-${dead}-a1b2c3`));
    const old = make(path.join(focus, `postgresql-backup.old-${dead}-a1b2c3`));
    fs.writeFileSync(path.join(old, 'base.tar.gz'), 'previous');
    const previous = make(path.join(workingDir, `.trash-restore-previous-${dead}-a1b2c3`));
    fs.writeFileSync(path.join(previous, 'PG_VERSION'), '15');
    const config = loadConfig({ HOME: root, LOCAL_DIR: root, PATH: '/usr/bin:/bin' }, root);

    const found = findLeftovers({ focusDirs: [focus], workingDirs: [workingDir] });
    expect(found).toHaveLength(3);
    const cleared = await clearLeftovers(config, found);
    expect(cleared).toHaveLength(3);
    expect(fs.existsSync(partial)).toBe(false);
    expect(fs.readFileSync(path.join(focus, 'postgresql-backup', 'base.tar.gz'), 'utf8')).toBe('previous');
    expect(fs.readFileSync(path.join(workingDir, 'data', 'PG_VERSION'), 'utf8')).toBe('15');
    expect(findLeftovers({ focusDirs: [focus], workingDirs: [workingDir] })).toEqual([]);
  });
});

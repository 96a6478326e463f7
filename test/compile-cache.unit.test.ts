/**
 * onlyChangeableBy: the test that decides where Node may keep the compiled code it will
 * run (src/cli/compile-cache.ts). A folder qualifies only when no account but ours (and
 * root) can change it or any folder above it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onlyChangeableBy } from '../src/base/folders.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';

const uid = process.geteuid!();
/** An account that is neither us nor root (nobody). */
const STRANGER = 65534;

let top: string;
let parent: string;
let dir: string;

beforeEach(() => {
  top = makeTempDir('db-tool-private-folder-');
  parent = path.join(top, 'parent');
  dir = path.join(parent, 'cache');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(parent, 0o755);
});

afterEach(() => {
  fs.rmSync(top, { recursive: true, force: true });
});

describe('onlyChangeableBy', () => {
  it('accepts our own folder below folders of ours and of root, a sticky /tmp among them', () => {
    expect(onlyChangeableBy(dir, uid)).toBe(true);
  });

  it('refuses a folder others may write in, or one below a folder others may write in', () => {
    fs.chmodSync(dir, 0o770);
    expect(onlyChangeableBy(dir, uid)).toBe(false);
    fs.chmodSync(dir, 0o700);
    fs.chmodSync(parent, 0o777);
    expect(onlyChangeableBy(dir, uid)).toBe(false);
  });

  it('accepts a sticky folder above ours, where others cannot move what is ours', () => {
    fs.chmodSync(parent, 0o1777);
    expect(onlyChangeableBy(dir, uid)).toBe(true);
    // …but not a sticky folder as the folder itself: others may add to it.
    fs.chmodSync(dir, 0o1777);
    expect(onlyChangeableBy(dir, uid)).toBe(false);
  });

  it("refuses another account's folder", () => {
    if (IS_ROOT) {
      fs.chownSync(dir, STRANGER, STRANGER);
      expect(onlyChangeableBy(dir, 0)).toBe(false);
    } else {
      // Ours, seen from the stranger: neither theirs nor root's.
      expect(onlyChangeableBy(dir, STRANGER)).toBe(false);
    }
  });

  it('judges where a link leads, and refuses what does not exist', () => {
    const link = path.join(top, 'link');
    fs.symlinkSync(dir, link);
    expect(onlyChangeableBy(link, uid)).toBe(true);
    fs.chmodSync(dir, 0o777);
    expect(onlyChangeableBy(link, uid)).toBe(false);
    expect(onlyChangeableBy(path.join(top, 'missing'), uid)).toBe(false);
  });
});

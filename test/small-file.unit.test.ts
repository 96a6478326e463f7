/** Reading a user's dotenv file: only a regular file, only up to a limit, never blocking. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { readSmallTextFile } from '../src/base/small-file.js';
import { readDotenvFile } from '../src/deploy/dotenv-file.js';
import { makeTempDir } from './helpers/env.js';

let dir: string;

beforeAll(() => {
  dir = makeTempDir('db-tool-small-file-');
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  fs.writeFileSync(path.join(dir, 'ok.env'), 'A=1\n');
  fs.writeFileSync(path.join(dir, 'big.env'), 'x'.repeat(2048));
  fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop'));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('readSmallTextFile', () => {
  it('reads a regular file', () => {
    expect(readSmallTextFile(path.join(dir, 'ok.env'), 1024)).toEqual({ ok: true, text: 'A=1\n' });
  });

  it.each([
    ['/dev/zero', 'not a regular file'],
    ['fifo', 'not a regular file'],
    ['.', 'a folder, not a file'],
    ['big.env', 'larger than 1024 bytes'],
    ['missing.env', 'no such file or folder'],
  ])('refuses %s at once: %s', (name, reason) => {
    expect(readSmallTextFile(path.resolve(dir, name), 1024)).toEqual({ ok: false, reason });
  });

  it('refuses a symlink loop', () => {
    expect(readSmallTextFile(path.join(dir, 'loop'), 1024)).toMatchObject({ ok: false });
  });
});

describe('HECTIC_DOTENV_FILE', () => {
  it('naming a FIFO or /dev/zero is unreadable at once, not a hang', () => {
    for (const file of [path.join(dir, 'fifo'), '/dev/zero']) {
      expect(readDotenvFile(loadConfig({ HECTIC_DOTENV_FILE: file }, '/'))).toEqual({ kind: 'unreadable', path: file, explicit: true, reason: 'not a regular file' });
    }
  });
});

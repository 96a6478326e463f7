/**
 * safe-files.ts: below an anchor nothing is followed (SPEC §17 "Security"), and
 * postgresql.conf values are quoted by the file's own rules (server-config.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chownBelow, makeDirsBelow, openLogForAppend, PlantedFileError, readBelow, writeBelow } from '../src/base/safe-files.js';
import { removeBelow } from '../src/base/safe-remove.js';
import { confListElement, confSetting } from '../src/cluster/server-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): { anchor: string; outside: string; victim: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-safe-'));
  dirs.push(dir);
  const anchor = path.join(dir, 'anchor');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(anchor);
  fs.mkdirSync(outside);
  const victim = path.join(outside, 'victim.txt');
  fs.writeFileSync(victim, 'precious\n');
  return { anchor, outside, victim };
}

describe('files below an anchor', () => {
  it('writes, appends and reads plain files', () => {
    const { anchor } = tempDir();
    const file = path.join(anchor, 'a', 'b.txt');
    makeDirsBelow(anchor, path.dirname(file));
    writeBelow(anchor, file, 'one\n', 'rewrite');
    writeBelow(anchor, file, 'two\n', 'append');
    expect(readBelow(anchor, file)).toBe('one\ntwo\n');
    writeBelow(anchor, file, 'three\n', 'rewrite');
    expect(readBelow(anchor, file)).toBe('three\n');
    expect(readBelow(anchor, path.join(anchor, 'missing'))).toBeUndefined();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('follows a link at or above the anchor (the user spelled it)', () => {
    const { anchor, outside } = tempDir();
    const alias = path.join(outside, 'alias');
    fs.symlinkSync(anchor, alias);
    writeBelow(alias, path.join(alias, 'f'), 'x', 'create');
    expect(fs.readFileSync(path.join(anchor, 'f'), 'utf8')).toBe('x');
  });

  it('refuses a link as the file, and leaves its target as it was', () => {
    const { anchor, victim } = tempDir();
    const file = path.join(anchor, 'server.log');
    fs.symlinkSync(victim, file);
    for (const purpose of ['append', 'rewrite'] as const) {
      expect(() => writeBelow(anchor, file, 'INJECTED', purpose)).toThrow(PlantedFileError);
    }
    expect(() => readBelow(anchor, file)).toThrow(/refusing to use .*server\.log: it is a symbolic link/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('refuses a link in place of a folder on the way', () => {
    const { anchor, outside, victim } = tempDir();
    fs.symlinkSync(outside, path.join(anchor, 'data'));
    const file = path.join(anchor, 'data', 'victim.txt');
    expect(() => writeBelow(anchor, file, 'INJECTED', 'append')).toThrow(/refusing to use .*data: it is a symbolic link where a folder belongs/);
    expect(() => makeDirsBelow(anchor, path.join(anchor, 'data', 'log'))).toThrow(PlantedFileError);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.existsSync(path.join(outside, 'log'))).toBe(false);
  });

  it('refuses a FIFO without blocking, and a hard link', () => {
    const { anchor, victim } = tempDir();
    const fifo = path.join(anchor, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => writeBelow(anchor, fifo, 'x', 'append')).toThrow(/it is a FIFO/);
    expect(() => readBelow(anchor, fifo)).toThrow(/it is a FIFO/);
    const hard = path.join(anchor, 'hard');
    fs.linkSync(victim, hard);
    expect(() => writeBelow(anchor, hard, 'x', 'append')).toThrow(/hard link/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('never makes a file through a dangling link (create is exclusive)', () => {
    const { anchor, outside } = tempDir();
    const target = path.join(outside, 'new');
    fs.symlinkSync(target, path.join(anchor, 'marker'));
    expect(() => writeBelow(anchor, path.join(anchor, 'marker'), 'x', 'create')).toThrow();
    expect(() => writeBelow(anchor, path.join(anchor, 'marker'), 'x', 'append')).toThrow(PlantedFileError);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('changes owners through descriptors only: a link is refused', () => {
    const { anchor, outside } = tempDir();
    fs.symlinkSync(outside, path.join(anchor, 'sock'));
    const me = process.getuid?.() ?? 0;
    const group = process.getgid?.() ?? 0;
    expect(() => chownBelow(anchor, path.join(anchor, 'sock'), me, group)).toThrow(/symbolic link/);
    fs.mkdirSync(path.join(anchor, 'log'));
    expect(() => chownBelow(anchor, path.join(anchor, 'log'), me, group)).not.toThrow();
  });

  it('removes a tree without following the links in it', () => {
    const { anchor, outside, victim } = tempDir();
    const tree = path.join(anchor, 'sock');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'sub', 'f'), 'x');
    fs.symlinkSync(outside, path.join(tree, 'to-outside'));
    fs.symlinkSync(victim, path.join(tree, 'sub', 'to-victim'));
    removeBelow(anchor, tree);
    expect(fs.existsSync(tree)).toBe(false);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    // The target itself a link: the link goes, not what it names.
    fs.symlinkSync(outside, tree);
    removeBelow(anchor, tree);
    expect(fs.existsSync(tree)).toBe(false);
    expect(fs.existsSync(victim)).toBe(true);
    removeBelow(anchor, tree); // missing: fine
  });

  it('opens a log in a folder of ours as asked (links too)', () => {
    const { anchor, victim } = tempDir();
    const link = path.join(anchor, 'hydrate.stdout.log');
    fs.symlinkSync(victim, link);
    const fd = openLogForAppend(link);
    fs.writeSync(fd, 'more\n');
    fs.closeSync(fd);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\nmore\n');
  });
});

describe('postgresql.conf values', () => {
  it('escapes backslashes and doubles quotes, as guc-file.l reads them', () => {
    expect(confSetting('log_directory', '/p/bs\\x')).toBe("log_directory = '/p/bs\\\\x'");
    expect(confSetting('log_directory', "/p/it's")).toBe("log_directory = '/p/it''s'");
    expect(confSetting('log_directory', "/p/q\\'x #y")).toBe("log_directory = '/p/q\\\\''x #y'");
    expect(confSetting('cron.database_name', 'ünï €')).toBe("cron.database_name = 'ünï €'");
  });

  it('refuses a line break or another control character, naming the setting', () => {
    expect(() => confSetting('unix_socket_directories', "/p/x'\nmax_connections = 7")).toThrow(/^cannot write unix_socket_directories into postgresql\.conf: ".*\\n.*" holds a line break/);
    expect(() => confSetting('log_directory', '/p/\u0000')).toThrow(/control character/);
  });

  it('double-quotes list elements that a comma split would take apart', () => {
    expect(confListElement('/tmp/sock')).toBe('/tmp/sock');
    expect(confListElement('/tmp/a b')).toBe('"/tmp/a b"');
    expect(confListElement('/tmp/a,"b"')).toBe('"/tmp/a,""b"""');
  });
});

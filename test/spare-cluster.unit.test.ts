import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SPARE_PREFIX } from '../src/cluster/cluster-layout.js';
import { hasSpare, prepareSpare, stopSparePreparation } from '../src/cluster/spare-cluster.js';
import { waitFor } from './helpers/project.js';

/** The first `name` on PATH that is a file we may run. */
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not on PATH`);
}

describe('spare clusters', () => {
  let root: string;
  let workingDir: string;
  let template: string;
  let stubs: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-spare-'));
    workingDir = path.join(root, 'work');
    template = path.join(root, 'template');
    stubs = path.join(root, 'bin');
    for (const dir of [workingDir, template, path.join(template, 'base'), stubs]) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(template, 'PG_VERSION'), '15\n');
    fs.writeFileSync(path.join(template, 'base', 'file'), 'rows');
  });

  afterEach(() => {
    stopSparePreparation(workingDir);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('fills its spares with a POSIX mv that has no GNU -T (BSD, macOS)', async () => {
    // A stand-in for BSD mv: it rejects -T as an illegal option and otherwise moves.
    const realMv = onPath('mv');
    fs.writeFileSync(
      path.join(stubs, 'mv'),
      `#!/bin/sh\nfor arg in "$@"; do case $arg in -T) echo "mv: illegal option -- T" >&2; exit 64 ;; esac; done\nexec ${realMv} "$@"\n`,
      { mode: 0o755 },
    );
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    prepareSpare({ env: { ...env, PATH: `${stubs}:${env.PATH ?? ''}` }, spares: 2 }, workingDir, 'k1', template);

    const spares = [1, 2].map((n) => path.join(workingDir, `${SPARE_PREFIX}k1-${n}`));
    const preparing = () => fs.readdirSync(workingDir).some((entry) => entry.startsWith('.spare-tmp-'));
    // prepareSpare makes the preparation's folder before it returns; the script removes it when done.
    await waitFor(() => !preparing(), 60_000, 'the spare preparation to end');
    expect(hasSpare(workingDir, 'k1')).toBe(true);
    for (const spare of spares) {
      expect(fs.existsSync(spare)).toBe(true);
      expect(fs.readFileSync(path.join(spare, 'PG_VERSION'), 'utf8')).toBe('15\n');
      expect(fs.readFileSync(path.join(spare, 'base', 'file'), 'utf8')).toBe('rows');
      // Renamed into place, never moved into a folder of that name.
      expect(fs.existsSync(path.join(spare, 'data'))).toBe(false);
    }
  });

  it('makes a spare again when a start takes it while the other is being copied: the pool is full at the end', async () => {
    // A cp that, on its second call (the second spare), first takes the first spare away, as a start would.
    const realCp = onPath('cp');
    const calls = path.join(root, 'cp-calls');
    const first = path.join(workingDir, `${SPARE_PREFIX}k1-1`);
    fs.writeFileSync(
      path.join(stubs, 'cp'),
      `#!/bin/sh\necho call >> '${calls}'\nif [ "$(wc -l < '${calls}')" -eq 2 ]; then mv '${first}' '${root}/taken'; fi\nexec ${realCp} "$@"\n`,
      { mode: 0o755 },
    );
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    prepareSpare({ env: { ...env, PATH: `${stubs}:${env.PATH ?? ''}` }, spares: 2 }, workingDir, 'k1', template);

    const preparing = () => fs.readdirSync(workingDir).some((entry) => entry.startsWith('.spare-tmp-'));
    await waitFor(() => !preparing(), 60_000, 'the spare preparation to end');
    expect(fs.existsSync(path.join(root, 'taken', 'PG_VERSION'))).toBe(true);
    expect(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    for (const n of [1, 2]) expect(fs.existsSync(path.join(workingDir, `${SPARE_PREFIX}k1-${n}`, 'PG_VERSION'))).toBe(true);
  });

  it("never moves a copy into a folder a link planted at a spare's name points to", async () => {
    // An mv that, just before it moves, plants a link where the first spare goes (the working dir is the server account's).
    const realMv = onPath('mv');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const first = path.join(workingDir, `${SPARE_PREFIX}k1-1`);
    fs.writeFileSync(path.join(stubs, 'mv'), `#!/bin/sh\n[ -L '${first}' ] || ln -s '${outside}' '${first}'\nexec ${realMv} "$@"\n`, { mode: 0o755 });
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    prepareSpare({ env: { ...env, PATH: `${stubs}:${env.PATH ?? ''}` }, spares: 2 }, workingDir, 'k1', template);

    const preparing = () => fs.readdirSync(workingDir).some((entry) => entry.startsWith('.spare-tmp-'));
    await waitFor(() => !preparing(), 60_000, 'the spare preparation to end');
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.lstatSync(first).isSymbolicLink()).toBe(true);
  });

  it('keeps as many spares ready as PG_SPARES says: 1 makes one, 0 starts no copy', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    prepareSpare({ env, spares: 0 }, workingDir, 'k1', template);
    expect(fs.readdirSync(workingDir)).toEqual([]);

    prepareSpare({ env, spares: 1 }, workingDir, 'k1', template);
    const preparing = () => fs.readdirSync(workingDir).some((entry) => entry.startsWith('.spare-tmp-'));
    await waitFor(() => !preparing(), 60_000, 'the spare preparation to end');
    expect(fs.readdirSync(workingDir)).toEqual([`${SPARE_PREFIX}k1-1`]);
  });

  it('uses a spare made under a larger PG_SPARES, and sees none of another template', () => {
    fs.mkdirSync(path.join(workingDir, `${SPARE_PREFIX}k1-5`));
    fs.mkdirSync(path.join(workingDir, `${SPARE_PREFIX}k2-1`));
    expect(hasSpare(workingDir, 'k1')).toBe(true);
    fs.rmSync(path.join(workingDir, `${SPARE_PREFIX}k1-5`), { recursive: true });
    expect(hasSpare(workingDir, 'k1')).toBe(false);
  });
});

/**
 * DB1 from a restored copy of the backup kept ready (issue 22 §2, restored-spare.ts):
 * after a diff, the backup is unpacked in the background into
 * `$PG_WORKING_DIR/.spare-restored-<key>-1/-2`; the next diff renames one in. Real
 * clusters, the real backup; the preparation is a real background process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { diffRunFolders, makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { queryValue, serversBelow, waitFor } from './helpers/project.js';

const TAKEN = /db1: restore \S+: a restored copy kept ready, renamed in/;
const COPY = /^\.spare-restored-[0-9a-f]{16}-[12]$/;
const PREPARATION = /^\.spare-restored-tmp-(\d+)-([0-9a-f]{16})$/;

let project: DiffProject;
let workingDir: string;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
  workingDir = path.join(project.dir, 'focus', 'postgresql');
}, 120_000);

afterAll(async () => {
  await project?.remove();
});

function diff(env: Record<string, string> = {}) {
  return runBin('database', ['diff'], { env: { ...project.env, HECTIC_LOG: 'debug', ...env }, timeoutMs: 90_000 });
}

function entries(): string[] {
  return fs.existsSync(workingDir) ? fs.readdirSync(workingDir).sort() : [];
}

const copies = (): string[] => entries().filter((entry) => COPY.test(entry));
const preparations = (): string[] => entries().filter((entry) => PREPARATION.test(entry));

/**
 * The complete copies, after moving the preparations in progress (each the leader of
 * its process group) from the lowest CPU and I/O priority to normal ones: a machine busy
 * with other tests can starve them, and this stands in for a quiet one.
 */
function hurriedCopies(): string[] {
  for (const entry of preparations()) {
    const pid = PREPARATION.exec(entry)?.[1] as string;
    spawnSync('ionice', ['-c', '2', '-n', '4', '-P', pid], { stdio: 'ignore' });
    spawnSync('renice', ['-n', '0', '-g', pid], { stdio: 'ignore' });
  }
  return copies();
}

async function copiesReady(): Promise<string[]> {
  await waitFor(() => hurriedCopies().length === 2 && preparations().length === 0, 150_000, 'two restored copies of the backup');
  return copies();
}

/** The report without the rehearsal's timings, which differ from run to run. */
function withoutTimings(text: string): string {
  return text.replace(/^( {2}[0-9]{14}-\S+ .*?)[0-9.]+ m?s$/gm, '$1<time>');
}

function expectNoServerLeft(): void {
  expect(serversBelow(project.dir)).toEqual([]);
  for (const [run, left] of Object.entries(diffRunFolders(project.dir))) expect({ run, left: left.filter((entry) => entry !== 'finished') }).toEqual({ run, left: ['logs'] });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A pid no process has (a child that has exited). */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

describe('database diff: DB1 from a restored copy kept ready', () => {
  it('takes a copy on the next diff and gives the same answer, then refills it', async () => {
    const first = await diff();
    expect(first.code).toBe(0);
    const [one, two] = await copiesReady();
    expect([one, two].map((name) => name?.replace(/-[12]$/, ''))).toEqual([one?.replace(/-[12]$/, ''), one?.replace(/-[12]$/, '')]);
    const second = await diff();
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(TAKEN);
    expect(withoutTimings(second.stdout)).toBe(withoutTimings(first.stdout));
    expect(await copiesReady()).toEqual([one, two]);
    expectNoServerLeft();
  });

  it('never answers a new backup from a copy of the old one', async () => {
    await diff();
    const [old] = await copiesReady();
    // The project's cluster gets a table, and a new backup is taken.
    const started = await runBin('postgres-init', ['--env'], { env: { ...project.env, PG_REUSE: '1' } });
    expect(started.code).toBe(0);
    try {
      const url = Object.values(parseExports(started.stdout)).find((value) => value.startsWith('postgresql://')) as string;
      await queryValue(url, 'CREATE TABLE public.added_after_backup (id int) INHERITS (hectic.created_at)');
      expect((await runBin('database', ['backup'], { env: project.env })).code).toBe(0);
    } finally {
      expect((await runBin('postgres-cleanup', [], { env: project.env })).code).toBe(0);
    }
    const result = await runBin('database', ['diff', '--json'], { env: project.env, timeoutMs: 90_000 });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { schema: { onlyInDb1: Array<{ key: string }> } };
    expect(report.schema.onlyInDb1.map((object) => object.key)).toContain('TABLE public.added_after_backup');
    // The old backup's copies go; the new backup's are made.
    await waitFor(() => !copies().some((name) => name.startsWith(old?.replace(/-[12]$/, '') as string)), 60_000, 'the old copies to go');
    const fresh = await copiesReady();
    expect(fresh.every((name) => !name.startsWith(old?.replace(/-[12]$/, '') as string))).toBe(true);
    const again = await diff();
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(TAKEN);
    expect(again.stdout).toContain('added_after_backup');
    expectNoServerLeft();
  });

  it('never takes what a killed preparation left, and removes it', async () => {
    const before = await diff();
    const ready = await copiesReady();
    // What a preparation killed after unpacking looks like: its folder, its `data` inside,
    // never renamed to a copy's name (this one damaged: taken, DB1 would not start).
    const key = /^\.spare-restored-([0-9a-f]{16})-[12]$/.exec(ready[0] as string)?.[1] as string;
    const killed = path.join(workingDir, `.spare-restored-tmp-${deadPid()}-${key}`);
    fs.mkdirSync(killed);
    fs.renameSync(path.join(workingDir, ready[0] as string), path.join(killed, 'data'));
    fs.rmSync(path.join(killed, 'data', 'global', 'pg_control'));
    fs.rmSync(path.join(workingDir, ready[1] as string), { recursive: true, force: true });
    const result = await diff();
    expect(result.code).toBe(before.code);
    expect(withoutTimings(result.stdout)).toBe(withoutTimings(before.stdout));
    expect(result.stderr).not.toMatch(TAKEN);
    await waitFor(() => !fs.existsSync(killed), 60_000, 'the killed preparation to be removed');
    expect(await copiesReady()).toEqual(ready);
    expectNoServerLeft();
  });

  it('stops a preparation at postgres-cleanup, and goes with the working dir at database cleanup', async () => {
    for (const copy of copies()) fs.rmSync(path.join(workingDir, copy), { recursive: true, force: true });
    expect([0, 1]).toContain((await diff()).code);
    const running = preparations();
    expect(running).toHaveLength(1);
    expect((await runBin('postgres-cleanup', [], { env: project.env })).code).toBe(0);
    expect(preparations()).toEqual([]);
    const pid = Number(PREPARATION.exec(running[0] as string)?.[1]);
    await waitFor(() => !groupAlive(pid), 10_000, 'the preparation to end');
    expect((await runBin('database', ['cleanup'], { env: project.env })).code).toBe(0);
    expect(fs.existsSync(workingDir)).toBe(false);
  });
});

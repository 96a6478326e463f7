/**
 * `database diff` end to end on the realistic bookstore schema (partitions, RLS, enum,
 * domains, generated columns, exclusion constraint, views, grants…): production backed
 * up after two of its three migrations; DB1 = backup + the third, DB2 = the sources.
 * Identical, run after run, with and without --privileges. (Each drift kind is in
 * diff-drift.test.ts; the non-hectic crm schema in non-hectic.test.ts.)
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { serversBelow } from './helpers/project.js';
import { ROOT } from './helpers/env.js';

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject(path.join(ROOT, 'test', 'fixtures', 'schemas', 'bookstore'), 2);
}, 180_000);

afterAll(async () => {
  await project?.remove();
});

function diff(args: string[], env: Record<string, string> = {}) {
  return runBin('database', ['diff', ...args], { env: { ...project.env, ...env }, timeoutMs: 120_000 });
}

describe('database diff on the bookstore schema', () => {
  it('is identical, the same way every run, and says what was not compared', async () => {
    const first = await diff(['--tables', 'store.author,store.book']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^database diff: no differences\n/);
    expect(first.stdout).toContain('1 migration applied');
    expect(first.stdout).toContain('privileges and owners were not compared');
    const second = await diff(['--tables', 'store.author,store.book']);
    // The rehearsal's time (the last column) differs from run to run.
    const withoutTime = (text: string) => text.replace(/^( {2}[0-9]{14}-\S+ .*?)[0-9.]+ m?s$/gm, '$1<time>');
    expect(withoutTime(second.stdout)).toBe(withoutTime(first.stdout));
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('compares grants and default privileges with --privileges, identical too', async () => {
    const result = await diff(['--privileges', '--ignore-column-order', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; identical: boolean; compared: unknown; summary: { identicalObjects: number } };
    expect(report).toMatchObject({ ok: true, identical: true, compared: { privileges: true, owners: false, columnOrder: false } });
    const plain = JSON.parse((await diff(['--json'])).stdout) as { summary: { identicalObjects: number } };
    // The grants are objects of their own: more objects compared.
    expect(report.summary.identicalObjects).toBeGreaterThan(plain.summary.identicalObjects);
  });
});

/**
 * Migrations merged out of order (SPEC §17 migrator): after a merge, an earlier-dated
 * migration sits between applied ones. `migrate up`/`to` name each one and why (exit 2);
 * `--allow-out-of-order` applies them, in file order, after the applied ones; `status`
 * marks them; drift protection of the applied ones stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { MigratorWorkspace, appliedNames, relationExists, tableMigration } from './helpers/migrator.js';

let cluster: TestCluster;
let work: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'order');
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
});

const MAIN_1 = '20240101000000-main-one';
const BRANCH_1 = '20240102000000-branch-one';
const MAIN_2 = '20240103000000-main-two';
const BRANCH_2 = '20240104000000-branch-two';
const MAIN_3 = '20240105000000-main-three';
const LATER = '20240201000000-later';

/** main's three migrations applied; then the merge brings the branch's two, dated between them. */
async function merged() {
  const db = await work.database();
  const dir = work.folder();
  const run = (...args: string[]): Promise<CliResult> => runBin('migrator', ['-u', db.url, '-d', dir, ...args]);
  tableMigration(dir, MAIN_1, 'main_one');
  tableMigration(dir, MAIN_2, 'main_two');
  tableMigration(dir, MAIN_3, 'main_three');
  const applied = await run('migrate', 'up', 'all');
  expect(applied.code, applied.stderr).toBe(0);
  tableMigration(dir, BRANCH_1, 'branch_one');
  tableMigration(dir, BRANCH_2, 'branch_two');
  return { ...db, dir, run };
}

describe('out-of-order migrations', () => {
  it('up and to refuse (exit 2), naming each one and the applied migration it sorts before; nothing changes', async () => {
    const { client, run } = await merged();
    for (const args of [['migrate', 'up'], ['migrate', 'up', 'all'], ['migrate', 'to', 'latest']]) {
      const result = await run(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('2 migrations on disk are out of order');
      expect(result.stderr).toContain('--allow-out-of-order');
      expect(result.stderr).toMatch(new RegExp(`^ {2}${BRANCH_1}: never applied, yet ${MAIN_2} after it is \\(applied \\d{4}-`, 'm'));
      expect(result.stderr).toMatch(new RegExp(`^ {2}${BRANCH_2}: never applied, yet ${MAIN_3} after it is`, 'm'));
      expect(result.stderr).not.toContain(MAIN_1);
    }
    expect(await appliedNames(client)).toEqual([MAIN_1, MAIN_2, MAIN_3]);
    expect(await relationExists(client, 'public.branch_one')).toBe(false);
  });

  it('status marks them, in text (aligned columns) and in --json', async () => {
    const { run } = await merged();
    const text = await run('migrate', 'status');
    expect(text.code, text.stderr).toBe(0);
    const rows = text.stdout.split('\n').filter(Boolean);
    const width = Math.max(...[MAIN_1, BRANCH_1, MAIN_2, BRANCH_2, MAIN_3].map((name) => name.length));
    expect(rows[1]).toBe(`${BRANCH_1.padEnd(width)}  pending  ${'-'.padEnd('2024-01-01T00:00:00.000Z'.length)}  out of order`);
    expect(rows[0]).toMatch(new RegExp(`^${MAIN_1.padEnd(width)}  applied  \\S+Z$`));
    for (const row of rows) expect(row.indexOf(row.includes('pending') ? 'pending' : 'applied')).toBe(width + 2);
    const json = JSON.parse((await run('migrate', 'status', '--json')).stdout);
    const byName = new Map(json.migrations.map((entry: { name: string }) => [entry.name, entry]));
    expect(byName.get(BRANCH_1)).toEqual(expect.objectContaining({ state: 'pending', outOfOrder: true }));
    expect(byName.get(BRANCH_2)).toEqual(expect.objectContaining({ state: 'pending', outOfOrder: true }));
    expect(byName.get(MAIN_3)).not.toHaveProperty('outOfOrder');
  });

  it('--allow-out-of-order applies them in file order, after the applied ones, then what is newer', async () => {
    const { client, dir, run } = await merged();
    tableMigration(dir, LATER, 'later');
    const one = await run('migrate', 'up', '--allow-out-of-order');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain(`applying 1 out-of-order migration after the applied ones: ${BRANCH_1}`);
    expect(await appliedNames(client)).toEqual([MAIN_1, BRANCH_1, MAIN_2, MAIN_3]);
    const all = await run('migrate', 'up', 'all', '--allow-out-of-order');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr.indexOf(`applied  ${BRANCH_2}`)).toBeLessThan(all.stderr.indexOf(`applied  ${LATER}`));
    const { rows } = await client.query('SELECT name::text AS name FROM hectic.migration ORDER BY id');
    expect(rows.map((row: { name: string }) => row.name)).toEqual([MAIN_1, MAIN_2, MAIN_3, BRANCH_1, BRANCH_2, LATER]);
    // In order again: nothing to allow any more.
    expect((await run('migrate', 'status')).stdout).not.toContain('out of order');
    expect((await run('migrate', 'up')).stderr).toContain('nothing to migrate');
  });

  it('down still reverts (the out-of-order ones are not touched), with a warning', async () => {
    const { client, run } = await merged();
    const down = await run('migrate', 'down');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/warn.*out of order/);
    expect(await appliedNames(client)).toEqual([MAIN_1, MAIN_2]);
  });

  it('keeps drift protection: a changed applied migration is still exit 2 with --allow-out-of-order', async () => {
    const { client, dir, run } = await merged();
    fs.appendFileSync(path.join(dir, MAIN_2, 'up.sql'), '-- edited after it was applied\n');
    const result = await run('migrate', 'up', '--allow-out-of-order');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`changed on disk since it was applied: ${MAIN_2}`);
    expect(await appliedNames(client)).toEqual([MAIN_1, MAIN_2, MAIN_3]);
  });

  it('--dry-run with --allow-out-of-order prints the plan and applies nothing', async () => {
    const { client, run } = await merged();
    const result = await run('--dry-run', 'migrate', 'up', 'all', '--allow-out-of-order');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`up ${BRANCH_1}\nup ${BRANCH_2}\n`);
    expect(await appliedNames(client)).toEqual([MAIN_1, MAIN_2, MAIN_3]);
  });
});

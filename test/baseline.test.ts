/**
 * A database built from the sources stands for every migration on disk (SPEC §5
 * deploy): hydrate records them in hectic.migration as a baseline, so `status` and
 * `migrate status` say applied, `migrate up all` after a deploy has nothing to do, and a
 * migration created afterwards is pending.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { copyProject, FIXTURES, type Project } from './helpers/project.js';

const FIRST = '20240101000000-init';
const SECOND = '20240201000000-prices';

let project: Project;
let env: Record<string, string>;

function database(args: string[]) {
  return runBin('database', args, { env, timeoutMs: 90_000 });
}

beforeAll(() => {
  project = copyProject(path.join(FIXTURES, 'diff', 'shop'), 'db-tool-baseline-');
  for (const entry of fs.readdirSync(project.dir, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  env = { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
});

afterAll(async () => {
  await runBin('database', ['cleanup'], { env });
  project?.remove();
});

interface StatusEntry {
  name: string;
  state: string;
  baseline?: boolean;
}

async function migrateStatus(): Promise<StatusEntry[]> {
  const result = await database(['migrator', 'migrate', 'status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { migrations: StatusEntry[] }).migrations;
}

describe('deploy records the migrations on disk as a baseline', () => {
  it('status shows them applied, migrate up all is a no-op, a later migration is pending', async () => {
    const deploy = await database(['deploy']);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain('recorded 2 migrations on disk as applied (baseline)');

    const status = await database(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).migrations).toEqual({ applied: [FIRST, SECOND], pending: [], baseline: [FIRST, SECOND] });
    expect((await database(['status'])).stdout).toContain('migrations: 2 applied (2 as the baseline of a build from the sources), 0 pending');

    expect((await migrateStatus()).map(({ name, state, baseline }) => ({ name, state, baseline }))).toEqual([
      { name: FIRST, state: 'applied', baseline: true },
      { name: SECOND, state: 'applied', baseline: true },
    ]);
    const text = await database(['migrator', 'migrate', 'status']);
    // Aligned columns, and the baseline rows marked.
    expect(text.stdout).toMatch(new RegExp(`^${FIRST}    applied  \\d{4}-\\S+  baseline$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${SECOND}  applied  \\d{4}-\\S+  baseline$`, 'm'));

    const upAll = await database(['migrator', 'migrate', 'up', 'all']);
    expect(upAll.code, upAll.stderr).toBe(0);
    expect(upAll.stderr).toContain('nothing to migrate');

    const created = await database(['migrator', 'create', '--name', 'later']);
    expect(created.code, created.stderr).toBe(0);
    const folder = created.stdout.trim();
    fs.writeFileSync(path.join(folder, 'up.sql'), 'CREATE TABLE public.later (id int) INHERITS (hectic.created_at);\n');
    fs.writeFileSync(path.join(folder, 'down.sql'), 'DROP TABLE public.later;\n');
    const later = path.basename(folder);
    expect((await migrateStatus()).find((entry) => entry.name === later)).toEqual(expect.objectContaining({ state: 'pending' }));
    expect((await migrateStatus()).find((entry) => entry.name === later)?.baseline).toBeUndefined();

    const up = await database(['migrator', 'migrate', 'up']);
    expect(up.code, up.stderr).toBe(0);
    expect((await migrateStatus()).find((entry) => entry.name === later)).toMatchObject({ state: 'applied' });
    expect((await migrateStatus()).find((entry) => entry.name === later)?.baseline).toBeUndefined();

    // A fresh deploy stands for all three.
    const again = await database(['deploy']);
    expect(again.code, again.stderr).toBe(0);
    expect((await migrateStatus()).map(({ state, baseline }) => ({ state, baseline }))).toEqual(Array(3).fill({ state: 'applied', baseline: true }));
  });
});

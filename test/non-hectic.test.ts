/**
 * The README walk-through "Using db-tool on a project without hectic inheritance", step
 * by step, on the crm fixture (a pg_dump-style structure.sql, no INHERITS anywhere):
 * check, deploy, test, migrations, backup and diff with HECTIC_INHERITANCE_EXCLUDED_SCHEMAS='*'.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { copyProject, FIXTURES, focusEntries, serversBelow, type Project } from './helpers/project.js';

let project: Project;
let env: Record<string, string>;

function database(args: string[], extra: Record<string, string | undefined> = {}) {
  return runBin('database', args, { env: { ...env, ...extra }, timeoutMs: 120_000 });
}

beforeAll(() => {
  project = copyProject(path.join(FIXTURES, 'schemas', 'crm'), 'db-tool-crm-');
  // As root the cluster runs as PG_OS_USER, which must read the sources and migrations.
  for (const entry of fs.readdirSync(project.dir, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  env = { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: '*' };
});

afterAll(async () => {
  await runBin('database', ['cleanup'], { env });
  project?.remove();
});

describe('a project without hectic inheritance', () => {
  it('is refused by the inheritance rule unless the variable (or -H) says otherwise', async () => {
    const refused = await database(['check'], { HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: undefined });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('must inherit hectic.created_at');
    const noHook = await database(['check', '-H'], { HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: undefined });
    expect(noHook.code, noHook.stderr).toBe(0);
  });

  it('walks through check, deploy, test, migrations and diff', async () => {
    const check = await database(['check']);
    expect(check.code, check.stderr).toBe(0);

    const deploy = await database(['deploy']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const test = await database(['test', '-v']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain('ok 3 - the pipeline counts open deals');
    const status = await database(['migrator', 'migrate', 'status']);
    expect(status.stdout).toMatch(/^20240101000000-initial +applied/m);
    expect(status.stdout).toMatch(/^20240201000000-deals +applied/m);
    expect((await database(['migrator', 'migrate', 'up', 'all'])).code).toBe(0);

    // "Production", one release behind: a fresh cluster at the first migration, backed up.
    expect((await database(['init'])).code).toBe(0);
    const first = await database(['migrator', 'migrate', 'up', '1']);
    expect(first.code, first.stderr).toBe(0);
    expect((await database(['backup'])).code).toBe(0);

    // DB1 = backup + the second migration (unqualified names after a pg_dump-style one).
    const diff = await database(['diff', '--tables', 'public.schema_migrations']);
    expect(diff.stderr).not.toContain('error');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/^database diff: no differences\n/);
    expect(diff.stdout).toContain('1 migration applied');
    // -H: the sources hydrate without the bundle (migrator init adds it afterwards).
    const noHook = await database(['diff', '-H']);
    expect(noHook.code, noHook.stderr).toBe(0);

    // Drift in the sources shows, and only it.
    const structure = path.join(project.dir, 'db', 'src', 'structure.sql');
    const original = fs.readFileSync(structure, 'utf8');
    fs.writeFileSync(structure, original.replace('CREATE INDEX index_deal_open ON crm.deal USING btree (company_id) WHERE', 'CREATE INDEX index_deal_open ON crm.deal USING btree (company_id, closes_on) WHERE'));
    try {
      const drift = await database(['diff', '--json']);
      expect(drift.code, drift.stderr).toBe(1);
      const report = JSON.parse(drift.stdout) as { schema: { changed: Array<{ key: string }>; onlyInDb1: unknown[]; onlyInDb2: unknown[] } };
      expect(report.schema.changed.map((object) => object.key)).toEqual(['INDEX crm.index_deal_open']);
      expect(report.schema.onlyInDb1).toEqual([]);
      expect(report.schema.onlyInDb2).toEqual([]);
    } finally {
      fs.writeFileSync(structure, original);
    }

    const cleanup = await database(['cleanup']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(serversBelow(project.dir)).toEqual([]);
    expect(focusEntries(project.dir).filter((entry) => !entry.startsWith('database-diff-') && entry !== 'postgresql-backup')).toEqual([]);
  });
});

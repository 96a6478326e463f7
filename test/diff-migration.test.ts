/**
 * `database diff --write-migration` and the rehearsal, end to end on the shop fixture
 * (backed up after its first migration): the written migration makes the next diff
 * identical, a migration that cannot be proved is not written, and the rehearsal reports
 * what the pending migrations locked and rewrote on the backup's rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';

interface Rehearsed {
  name: string;
  durationMs: number;
  locks: Array<{ relation: string; mode: string; existing: boolean }>;
  rewritten: Array<{ relation: string; bytes: number }>;
  flags: string[];
}

interface Report {
  identical: boolean;
  rehearsal: Rehearsed[];
  migration: null | {
    name: string | null;
    folder: string | null;
    proved: boolean;
    proof: { up: { converged: boolean; error: string | null; remaining: { changed: string[] } | null }; down: { converged: boolean } | null };
    hazards: Array<{ statement: string; hazard: string }>;
    manualSteps: { up: string[]; down: string[] };
    up: string;
    down: string;
  };
}

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
}, 120_000);

afterAll(async () => {
  await project?.remove();
});

async function diffJson(args: string[], env: Record<string, string>): Promise<{ code: number; report: Report; stderr: string }> {
  const result = await runBin('database', ['diff', '--json', ...args], { env: { ...project.env, ...env }, timeoutMs: 120_000 });
  if (result.stdout === '') throw new Error(`no JSON (exit ${result.code}): ${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

function written(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => /^[0-9]{14}-/.test(name)).sort();
}

describe('database diff --write-migration', () => {
  it('writes a proved migration; with it pending, the next diff is identical', async () => {
    const env = {
      DATABASE_SOURCE: project.variant('src', 'stock', {
        'schema.sql': [
          ['    price_cents integer NOT NULL DEFAULT 0\n', '    price_cents integer NOT NULL DEFAULT 0,\n    stock integer NOT NULL DEFAULT 0\n'],
          ["'FM999990.00'", "'FM999999990.00'"],
          ['CREATE INDEX product_category_idx ON public.product (category_id);\n', 'CREATE INDEX product_name_idx ON public.product (name);\n'],
        ],
      }),
      MIGRATION_DIR: project.variant('migration', 'stock', {}),
    };
    const before = written(env.MIGRATION_DIR);
    const first = await diffJson(['--write-migration', 'add stock', '--sql', path.join(project.dir, 'up-copy.sql')], env);
    expect(first.report.identical).toBe(false);
    expect(first.report.migration?.proof.up).toMatchObject({ converged: true, error: null });
    expect(first.report.migration?.proof.down).toMatchObject({ converged: true });
    expect(first.report.migration?.proved).toBe(true);
    expect(first.code).toBe(0);
    const added = written(env.MIGRATION_DIR).filter((name) => !before.includes(name));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^[0-9]{14}-add-stock$/);
    expect(first.report.migration?.folder).toBe(path.join(env.MIGRATION_DIR, added[0] ?? ''));
    const up = fs.readFileSync(path.join(env.MIGRATION_DIR, added[0] ?? '', 'up.sql'), 'utf8');
    expect(fs.readFileSync(path.join(project.dir, 'up-copy.sql'), 'utf8')).toBe(up);
    expect(up).toContain('ADD COLUMN "stock" integer DEFAULT 0 NOT NULL');
    expect(up).toContain('CREATE INDEX CONCURRENTLY product_name_idx ON public.product USING btree (name);');
    expect(up).toContain('DROP INDEX CONCURRENTLY IF EXISTS "public"."product_category_idx";');
    expect(up).toContain('CREATE OR REPLACE FUNCTION public.price_label(cents integer)');
    expect(first.report.migration?.hazards.some((h) => h.statement.includes('ADD COLUMN "stock"') && /ACCESS EXCLUSIVE lock on public\.product/.test(h.hazard))).toBe(true);

    // The written migration is now pending: migrate up all applies it to DB1.
    const second = await diffJson([], env);
    expect(second.report.rehearsal.map((step) => step.name)).toEqual(['20240201000000-prices', added[0]]);
    expect(second.report.identical).toBe(true);
    expect(second.code).toBe(0);
  });

  it('writes nothing and exits 1 when the proof fails (a rename is a manual step)', async () => {
    const env = {
      DATABASE_SOURCE: project.variant('src', 'rename', {
        'schema.sql': [
          ['    name text NOT NULL,\n    price_cents', '    title text NOT NULL,\n    price_cents'],
          ['SELECT p.id, p.name,', 'SELECT p.id, p.title AS name,'],
        ],
      }),
      MIGRATION_DIR: project.variant('migration', 'rename', {}),
    };
    const before = written(env.MIGRATION_DIR);
    const sqlFile = path.join(project.dir, 'rename-up.sql');
    const { code, report } = await diffJson(['--write-migration', 'rename', '--sql', sqlFile], env);
    expect(code).toBe(1);
    expect(report.migration?.proved).toBe(false);
    expect(report.migration?.folder).toBeNull();
    expect(report.migration?.manualSteps.up[0]).toMatch(/public\.product: columns name dropped and title added.*RENAME COLUMN/);
    // up fails (the view reads the new column) or leaves the table different: either way not proved.
    expect(report.migration?.proof.up.converged).toBe(false);
    expect(report.migration?.proof.up.error ?? report.migration?.proof.up.remaining?.changed.join(' ')).toMatch(/title|TABLE public\.product/);
    expect(report.migration?.up).not.toContain('DROP COLUMN');
    expect(written(env.MIGRATION_DIR)).toEqual(before);
    expect(fs.existsSync(sqlFile)).toBe(false);
  });

  it('prints up.sql on stdout with --sql - and the report on stderr', async () => {
    const env = { DATABASE_SOURCE: project.variant('src', 'comment', { 'schema.sql': [['CREATE INDEX product_category_idx', "COMMENT ON TABLE public.product IS 'what we sell';\nCREATE INDEX product_category_idx"]] }) };
    const result = await runBin('database', ['diff', '--sql', '-'], { env: { ...project.env, ...env }, timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^-- Generated by db-tool /);
    expect(result.stdout).toContain("COMMENT ON TABLE public.product IS 'what we sell';");
    expect(result.stderr).toContain('database diff: differences found');
    expect(result.stderr).toContain('Migration: proved');
  });
});

describe('database diff: rehearsal', () => {
  it('reports per pending migration its time, locks by mode and the tables it rewrote with their size', async () => {
    const env = {
      MIGRATION_DIR: project.variant('migration', 'rehearsal', {
        '20240301000000-more-categories/up.sql': "INSERT INTO public.category (name) SELECT 'category ' || g FROM generate_series(1, 5000) AS g;\n",
        '20240301000000-more-categories/down.sql': "DELETE FROM public.category WHERE name LIKE 'category %';\n",
        '20240302000000-token/up.sql': 'ALTER TABLE public.category ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();\n',
        '20240302000000-token/down.sql': 'ALTER TABLE public.category DROP COLUMN token;\n',
      }),
    };
    const { report } = await diffJson([], env);
    expect(report.rehearsal.map((step) => step.name)).toEqual(['20240201000000-prices', '20240301000000-more-categories', '20240302000000-token']);
    const [prices, insert, token] = report.rehearsal;
    expect(prices?.locks).toContainEqual({ relation: 'public.product', mode: 'AccessExclusiveLock', existing: true });
    expect(insert?.locks).toContainEqual({ relation: 'public.category', mode: 'RowExclusiveLock', existing: true });
    expect(insert?.rewritten).toEqual([]);
    expect(token?.locks).toContainEqual({ relation: 'public.category', mode: 'AccessExclusiveLock', existing: true });
    expect(token?.rewritten.map((table) => table.relation)).toEqual(['public.category']);
    // 5002 rows of about 90 bytes each, rewritten with their new uuid column.
    expect(token?.rewritten[0]?.bytes).toBeGreaterThan(5000 * 60);
    for (const step of report.rehearsal) expect(step.durationMs).toBeGreaterThan(0);

    const text = await runBin('database', ['diff'], { env: { ...project.env, ...env }, timeoutMs: 120_000 });
    expect(text.stdout).toMatch(/Rehearsal \(pending migrations on the backup's data\)/);
    expect(text.stdout).toMatch(/20240302000000-token +public\.category ACCESS EXCLUSIVE +public\.category \([0-9.]+ kB\) +[0-9.]+ m?s\n/);
  });
});

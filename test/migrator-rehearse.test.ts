/**
 * The lint corpus: hazardous migrations, each on a table with 5000 rows (the lint-corpus
 * fixture, backed up after its first migration). For each, `migrator lint` flags it, and
 * `migrator rehearse` — the migration applied to a restored copy of the backup — measures
 * the very locks and rewrites lint claims; the safe form lint proposes passes lint and
 * claims, and measures, no rewrite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { serversBelow } from './helpers/project.js';
import { analyzeFile } from '../src/migrations/lint/lint.js';
import { emptyKnowledge, type StatementClaims } from '../src/migrations/lint/walk-state.js';

interface CorpusCase {
  name: string;
  up: string;
  /** The rule lint must raise (undefined: none). */
  rule?: string;
}

const TIMEOUT = "SET lock_timeout = '2s';\n";

const HAZARDOUS: CorpusCase[] = [
  { name: '20240201000001-retype', up: 'ALTER TABLE public.t_type ALTER COLUMN n TYPE bigint;\n', rule: 'table-rewrite' },
  { name: '20240201000002-widen', up: 'ALTER TABLE public.t_type ALTER COLUMN name TYPE text;\n', rule: 'lock-timeout' },
  { name: '20240201000003-volatile-default', up: 'ALTER TABLE public.t_default ADD COLUMN token uuid DEFAULT gen_random_uuid();\n', rule: 'table-rewrite' },
  { name: '20240201000004-unlogged', up: 'ALTER TABLE public.t_logged SET UNLOGGED;\n', rule: 'table-rewrite' },
  { name: '20240201000005-check', up: 'ALTER TABLE public.t_check ADD CONSTRAINT t_check_n CHECK (n >= 0);\n', rule: 'constraint-not-valid' },
  { name: '20240201000006-foreign-key', up: 'ALTER TABLE public.t_fk ADD CONSTRAINT t_fk_parent FOREIGN KEY (parent_id) REFERENCES public.parent (id);\n', rule: 'constraint-not-valid' },
  { name: '20240201000007-not-null', up: 'ALTER TABLE public.t_notnull ALTER COLUMN n SET NOT NULL;\n', rule: 'set-not-null' },
  { name: '20240201000008-index', up: 'CREATE INDEX t_index_n ON public.t_index (n);\n', rule: 'index-concurrently' },
  { name: '20240201000009-drop-column', up: 'ALTER TABLE public.t_drop DROP COLUMN gone;\n', rule: 'data-loss' },
  { name: '20240201000010-rename', up: 'ALTER TABLE public.t_rename RENAME COLUMN a TO b;\n', rule: 'rename' },
  { name: '20240201000011-enum', up: "DROP TYPE public.mood;\nCREATE TYPE public.mood AS ENUM ('happy', 'sad');\n", rule: 'enum-value-removal' },
];

/** The safe forms lint proposes (CONCURRENTLY needs a no-transaction migration, checked by lint's unit tests). */
const SAFE: CorpusCase[] = [
  { name: '20240201000001-retype', up: `${TIMEOUT}ALTER TABLE public.t_type ADD COLUMN n_wide bigint;\n` },
  { name: '20240201000002-widen', up: `${TIMEOUT}ALTER TABLE public.t_type ALTER COLUMN name TYPE text;\n` },
  { name: '20240201000003-volatile-default', up: `${TIMEOUT}ALTER TABLE public.t_default ADD COLUMN token uuid;\nALTER TABLE public.t_default ALTER COLUMN token SET DEFAULT gen_random_uuid();\n` },
  { name: '20240201000005-check', up: `${TIMEOUT}ALTER TABLE public.t_check ADD CONSTRAINT t_check_n CHECK (n >= 0) NOT VALID;\nALTER TABLE public.t_check VALIDATE CONSTRAINT t_check_n;\n` },
  { name: '20240201000006-foreign-key', up: `${TIMEOUT}ALTER TABLE public.t_fk ADD CONSTRAINT t_fk_parent FOREIGN KEY (parent_id) REFERENCES public.parent (id) NOT VALID;\nALTER TABLE public.t_fk VALIDATE CONSTRAINT t_fk_parent;\n` },
  {
    name: '20240201000007-not-null',
    up: `${TIMEOUT}ALTER TABLE public.t_notnull ADD CONSTRAINT t_notnull_n CHECK (n IS NOT NULL) NOT VALID;\nALTER TABLE public.t_notnull VALIDATE CONSTRAINT t_notnull_n;\nALTER TABLE public.t_notnull ALTER COLUMN n SET NOT NULL;\nALTER TABLE public.t_notnull DROP CONSTRAINT t_notnull_n;\n`,
  },
];

const CORPUS_TABLES = ['t_type', 't_default', 't_logged', 't_check', 'parent', 't_fk', 't_notnull', 't_index', 't_drop', 't_rename'];
/** The lock modes lint claims (those that conflict with something a migration's neighbours do). */
const CLAIMED_MODES = ['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'ShareUpdateExclusiveLock'];

interface Rehearsed {
  name: string;
  durationMs: number;
  locks: Array<{ relation: string; mode: string; existing: boolean }>;
  rewritten: Array<{ relation: string; bytes: number }>;
  flags: string[];
}

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('lint-corpus', 1);
}, 180_000);

afterAll(async () => {
  await project?.remove();
});

function corpusFolder(label: string, cases: readonly CorpusCase[]): string {
  const files: Record<string, string> = {};
  for (const item of cases) {
    files[`${item.name}/up.sql`] = item.up;
    files[`${item.name}/down.sql`] = 'SELECT 1;\n';
  }
  return project.variant('migration', label, files);
}

/** Lint's claims for a migration (knowledge from the first migration's CREATE TABLEs). */
async function claimsOf(dir: string, name: string): Promise<{ locks: Map<string, string>; rewrites: string[] }> {
  const knowledge = emptyKnowledge();
  await analyzeFile(path.join(dir, '20240101000000-init', 'up.sql'), knowledge);
  const statements = await analyzeFile(path.join(dir, name, 'up.sql'), knowledge);
  const locks = new Map<string, string>();
  const rewrites = new Set<string>();
  const bare = (relation: string) => relation.replace(/^public\./, '');
  for (const claims of statements.map((statement): StatementClaims => statement.claims)) {
    for (const lock of claims.locks) {
      const known = locks.get(bare(lock.relation));
      if (!known || CLAIMED_MODES.indexOf(lock.mode) < CLAIMED_MODES.indexOf(known)) locks.set(bare(lock.relation), lock.mode);
    }
    for (const table of claims.rewrites) rewrites.add(bare(table));
  }
  return { locks, rewrites: [...rewrites].sort() };
}

/** What the rehearsal measured on the corpus tables, in the same shape. */
function measured(step: Rehearsed): { locks: Map<string, string>; rewrites: string[] } {
  const locks = new Map<string, string>();
  for (const lock of step.locks) {
    const table = lock.relation.replace(/^public\./, '');
    if (lock.existing && CORPUS_TABLES.includes(table) && CLAIMED_MODES.includes(lock.mode)) locks.set(table, lock.mode);
  }
  const rewrites = step.rewritten.map((table) => table.relation.replace(/^public\./, '')).filter((table) => CORPUS_TABLES.includes(table));
  return { locks, rewrites: rewrites.sort() };
}

async function rehearse(dir: string, args: string[] = []): Promise<{ code: number; steps: Rehearsed[]; stderr: string; limits: unknown }> {
  const result = await runBin('database', ['migrator', 'rehearse', '--json', ...args], { env: { ...project.env, MIGRATION_DIR: dir }, timeoutMs: 180_000 });
  if (result.stdout === '') throw new Error(`no JSON (exit ${result.code}): ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { migrations: Rehearsed[]; limits: unknown };
  return { code: result.code, steps: report.migrations, stderr: result.stderr, limits: report.limits };
}

async function lintRules(dir: string, name: string): Promise<{ code: number; rules: string[] }> {
  const result = await runBin('migrator', ['-d', dir, 'lint', '--json', name], { env: project.env });
  const report = JSON.parse(result.stdout) as { findings: Array<{ rule: string }> };
  return { code: result.code, rules: report.findings.map((finding) => finding.rule) };
}

describe('the lint corpus, rehearsed on a table with rows', () => {
  it('lint flags each hazardous migration, and the rehearsal measures the locks and rewrites lint claims', async () => {
    const dir = corpusFolder('hazardous', HAZARDOUS);
    const { code, steps } = await rehearse(dir, ['--max-rewrite-size', '1kB']);
    expect(steps.map((step) => step.name)).toEqual(HAZARDOUS.map((item) => item.name));
    for (const [index, item] of HAZARDOUS.entries()) {
      const lint = await lintRules(dir, item.name);
      expect(lint.rules, item.name).toContain(item.rule);
      expect(lint.code, item.name).toBe(1);
      const claims = await claimsOf(dir, item.name);
      const step = measured(steps[index] as Rehearsed);
      expect(Object.fromEntries(step.locks), item.name).toEqual(Object.fromEntries(claims.locks));
      expect(step.rewrites, item.name).toEqual(claims.rewrites);
    }
    // The claims themselves, for the record: what PostgreSQL did on 5000 rows.
    const byName = new Map(steps.map((step) => [step.name, measured(step)]));
    expect(byName.get('20240201000001-retype')?.rewrites).toEqual(['t_type']);
    expect(byName.get('20240201000002-widen')?.rewrites).toEqual([]);
    expect(byName.get('20240201000004-unlogged')?.rewrites).toEqual(['t_logged']);
    expect(Object.fromEntries(byName.get('20240201000006-foreign-key')?.locks ?? [])).toEqual({ t_fk: 'ShareRowExclusiveLock', parent: 'ShareRowExclusiveLock' });
    expect(Object.fromEntries(byName.get('20240201000008-index')?.locks ?? [])).toEqual({ t_index: 'ShareLock' });
    // --max-rewrite-size 1kB: the rewrites exceed it, exit 1.
    expect(code).toBe(1);
    expect(steps.find((step) => step.name === '20240201000001-retype')?.flags.join(' ')).toMatch(/rewrote public\.t_type \(\d+ kB\)/);
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('the safe forms pass lint, claim and measure no rewrite, and pass the rehearsal (exit 0)', async () => {
    const dir = corpusFolder('safe', SAFE);
    const { code, steps, limits } = await rehearse(dir, ['--max-lock-ms', '60000', '--max-rewrite-size', '1kB']);
    expect(limits).toEqual({ maxLockMs: 60000, maxRewriteBytes: 1024 });
    expect(steps.map((step) => step.name)).toEqual(SAFE.map((item) => item.name));
    for (const [index, item] of SAFE.entries()) {
      const lint = await lintRules(dir, item.name);
      expect(lint, item.name).toEqual({ code: 0, rules: [] });
      const claims = await claimsOf(dir, item.name);
      const step = measured(steps[index] as Rehearsed);
      expect(Object.fromEntries(step.locks), item.name).toEqual(Object.fromEntries(claims.locks));
      expect(step.rewrites, item.name).toEqual([]);
      expect(claims.rewrites, item.name).toEqual([]);
    }
    expect(code).toBe(0);
    expect(fs.readdirSync(path.join(project.dir, 'focus')).filter((name) => name.startsWith('migrator-rehearse'))).toEqual([]);
  });

  it('prints the rehearsal as text, and says so when nothing is pending', async () => {
    const dir = corpusFolder('text', HAZARDOUS.slice(0, 1));
    const text = await runBin('database', ['migrator', 'rehearse'], { env: { ...project.env, MIGRATION_DIR: dir }, timeoutMs: 180_000 });
    expect(text.stdout).toMatch(/20240201000001-retype +public\.t_type ACCESS EXCLUSIVE +public\.t_type \([0-9.]+ kB\) +[0-9.]+ m?s\n/);
    expect(text.code).toBe(0);
    const none = await runBin('database', ['migrator', 'rehearse'], { env: { ...project.env, MIGRATION_DIR: path.join(project.dir, 'db', 'migration') }, timeoutMs: 180_000 });
    expect(none.stderr).toContain('no pending migrations');
    expect(none.code).toBe(0);
  });
});

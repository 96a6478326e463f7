/**
 * The migration writer against a real cluster, one test per drift kind: DB1 = a base
 * schema with rows, DB2 = a copy with one kind of drift. The migration is generated from
 * both (catalog + pg_dump), proved (up then down on a copy of DB1), written to a
 * migration folder, applied to another copy with `migrator migrate up`, and the schemas
 * compared again: identical. Kinds that need a manual step must fail the proof. Here the
 * kinds of types, routines, views, schemas and comments, what the writer cannot undo,
 * grants and hazards; the kinds that change tables in migration-writer-tables.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSchemas, schemasDiffer } from '../src/diff/compare-schema.js';
import { writeProvedMigration } from '../src/diff/migration-writer/write-migration.js';
import { dumpSchema } from '../src/diff/schema-dump.js';
import { runBin } from './helpers/cli.js';
import { connectTo } from './helpers/migrator.js';
import { remaining, useWriterBase } from './helpers/writer-base.js';
import { KINDS, MANUAL_KINDS, TABLE_KINDS } from './fixtures/migration-writer/drift-kinds.js';

const bed = useWriterBase();
const { copyOfBase, dropAll } = bed;

describe('migration writer: one drift kind at a time', () => {
  const kinds = Object.entries(KINDS).filter(([name]) => !MANUAL_KINDS.includes(name) && !TABLE_KINDS.includes(name));

  it.each(kinds)('%s: proved, applied by migrator, identical; down brings it back', (kind, change) => bed.proveKind(kind, change));

  it.each(MANUAL_KINDS)('%s: a manual step, a failed proof, no folder', async (kind) => {
    const db1 = await copyOfBase();
    const db2 = await copyOfBase(KINDS[kind]);
    const migrationDir = path.join(bed.root(), `migrations-${bed.counter()}`);
    try {
      const [schema1, schema2] = await Promise.all([dumpSchema(bed.config(), db1.url), dumpSchema(bed.config(), db2.url)]);
      const outcome = await writeProvedMigration(bed.config(), { url: db1.url, schema: schema1 }, { url: db2.url, schema: schema2 }, { name: 'drift', migrationDir }, 'test');
      expect(outcome.proof.proved).toBe(false);
      expect(outcome.manualSteps.up.length).toBeGreaterThan(0);
      expect(outcome.up).toContain('-- manual step:');
      // Never silent data loss: the column or the enum value is not dropped.
      expect(outcome.up).not.toMatch(/DROP COLUMN|DROP TYPE/);
      expect(remaining(outcome.proof.up.remaining).length).toBeGreaterThan(0);
      expect(outcome.folder).toBeUndefined();
      expect(fs.existsSync(migrationDir)).toBe(false);
    } finally {
      await dropAll(db1.name, db2.name);
    }
  });
});

describe('migration writer: what it cannot undo, swaps and costs', () => {
  /** Generates and proves the migration from the base to the base changed by `change`, written to a folder. */
  async function written(change: string): Promise<{ db1: string; db2: string; migrationDir: string; outcome: Awaited<ReturnType<typeof writeProvedMigration>> }> {
    const db1 = await copyOfBase();
    const db2 = await copyOfBase(change);
    const migrationDir = path.join(bed.root(), `migrations-${bed.counter()}`);
    const [schema1, schema2] = await Promise.all([dumpSchema(bed.config(), db1.url), dumpSchema(bed.config(), db2.url)]);
    const outcome = await writeProvedMigration(bed.config(), { url: db1.url, schema: schema1 }, { url: db2.url, schema: schema2 }, { name: 'drift', migrationDir }, 'test');
    return { db1: db1.name, db2: db2.name, migrationDir, outcome };
  }

  it('an added enum value: migrate down fails with the manual step, not "reverted"', async () => {
    const applied = await copyOfBase();
    const { db1, db2, migrationDir, outcome } = await written(KINDS['enum value added'] ?? '');
    try {
      expect(outcome.proof.down).toMatchObject({ needsManualSteps: true });
      expect(outcome.down).toMatch(/RAISE EXCEPTION/);
      const up = await runBin('migrator', ['-u', applied.url, '-d', migrationDir, 'migrate', 'up']);
      expect(up.code).toBe(0);
      const down = await runBin('migrator', ['-u', applied.url, '-d', migrationDir, 'migrate', 'down']);
      expect(down.code).not.toBe(0);
      expect(down.stderr).toMatch(/this migration needs manual steps first: enum app\.status/);
      expect(down.stderr).not.toMatch(/reverted/);
      const status = await runBin('migrator', ['-u', applied.url, '-d', migrationDir, 'status']);
      expect(status.stdout).toMatch(/-drift +applied/);
    } finally {
      await dropAll(db1, db2, applied.name);
    }
  });

  it('a changed index is built under a temporary name, then swapped for the old one', async () => {
    const { db1, db2, outcome } = await written(KINDS['index changed'] ?? '');
    try {
      expect(outcome.proof.proved).toBe(true);
      expect(outcome.up.split('\n')[0]).toBe('-- db-tool: no-transaction');
      expect(outcome.up).toMatch(
        /\nCREATE INDEX CONCURRENTLY "orders_customer_idx_new" ON app\.orders USING btree \(customer_id, status\);\nDROP INDEX CONCURRENTLY "app"\."orders_customer_idx";\nALTER INDEX "app"\."orders_customer_idx_new" RENAME TO "orders_customer_idx";\n$/,
      );
    } finally {
      await dropAll(db1, db2);
    }
  });

  it('statistics targets and UNLOGGED are generated; a recreated materialized view says what recomputing costs', async () => {
    const stats = await written(`${KINDS['statistics target changed'] ?? ''} ${KINDS['table set unlogged'] ?? ''}`);
    const view = await written(KINDS['materialized view changed'] ?? '');
    try {
      expect(stats.outcome.proof.proved).toBe(true);
      expect(stats.outcome.up).toContain('ALTER TABLE app.customer ALTER COLUMN "score" SET STATISTICS 500;');
      expect(stats.outcome.up).toMatch(/-- hazard: rewrites app\.orders.*\nALTER TABLE app\.orders SET UNLOGGED;/);
      expect(stats.outcome.up).not.toContain('nothing to change');
      expect(view.outcome.hazards.map((hazard) => hazard.hazard)).toContainEqual(expect.stringMatching(/^recomputes app\.order_stats WITH DATA: its whole query runs inside the migration \(on DB1 it held about \d+ rows/));
    } finally {
      await dropAll(stats.db1, stats.db2, view.db1, view.db2);
    }
  });
});

describe('migration writer: grants, with --privileges', () => {
  it.each([
    ['a grant added', 'GRANT SELECT, INSERT ON app.orders TO writer_reader'],
    ['default privileges added', 'ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO writer_reader'],
    ['a view recreated keeps its grant', 'GRANT SELECT ON app.order_view2 TO writer_reader; DROP VIEW app.order_view2; DROP VIEW app.order_view; CREATE VIEW app.order_view AS SELECT o.id, app.total(o) AS total FROM app.orders o; CREATE VIEW app.order_view2 AS SELECT id, total FROM app.order_view; GRANT SELECT ON app.order_view2 TO writer_reader'],
  ])('%s: proved, up and down', async (_kind, change) => {
    await bed.admin().query("DO $$ BEGIN CREATE ROLE writer_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    const db1 = await copyOfBase();
    const db2 = await copyOfBase(change);
    const dumpOptions = { privileges: true };
    try {
      const [schema1, schema2] = await Promise.all([dumpSchema(bed.config(), db1.url, dumpOptions), dumpSchema(bed.config(), db2.url, dumpOptions)]);
      expect(schemasDiffer(compareSchemas(schema1, schema2))).toBe(true);
      const outcome = await writeProvedMigration(bed.config(), { url: db1.url, schema: schema1 }, { url: db2.url, schema: schema2 }, {}, 'test', undefined, dumpOptions);
      expect({ up: outcome.proof.up.error ?? remaining(outcome.proof.up.remaining), down: outcome.proof.down?.error ?? remaining(outcome.proof.down?.remaining) }).toEqual({ up: [], down: [] });
      expect(outcome.proof.proved).toBe(true);
      expect(outcome.up).toMatch(/GRANT SELECT/);
    } finally {
      await dropAll(db1.name, db2.name);
    }
  });
});

describe('migration writer: hazards on a table with rows', () => {
  it('flags data loss, rewrites and ACCESS EXCLUSIVE locks, and uses the safer forms', async () => {
    const change = [
      'ALTER TABLE app.orders DROP COLUMN note',
      'ALTER TABLE app.customer ALTER COLUMN score TYPE bigint',
      'ALTER TABLE app.customer ALTER COLUMN name SET NOT NULL',
      'ALTER TABLE app.orders ADD CONSTRAINT price_positive CHECK (price_cents > 0)',
      'CREATE INDEX orders_status_idx ON app.orders (status)',
    ].join(';\n');
    const db1 = await copyOfBase();
    const db2 = await copyOfBase(change);
    try {
      const [schema1, schema2] = await Promise.all([dumpSchema(bed.config(), db1.url), dumpSchema(bed.config(), db2.url)]);
      const outcome = await writeProvedMigration(bed.config(), { url: db1.url, schema: schema1 }, { url: db2.url, schema: schema2 }, {}, 'test');
      expect(outcome.proof.proved).toBe(true);
      const hazardOf = (fragment: string) => outcome.hazards.filter((h) => h.statement.includes(fragment)).map((h) => h.hazard.split(' (')[0]);
      expect(hazardOf('DROP COLUMN "note"')).toEqual(['data loss: drops column app.orders.note and its values', 'takes an ACCESS EXCLUSIVE lock on app.orders']);
      expect(hazardOf('TYPE bigint')[0]).toBe('rewrites app.customer');
      expect(outcome.up).toMatch(/ADD CONSTRAINT "price_positive" CHECK \(\(price_cents > 0\)\) NOT VALID;/);
      expect(outcome.up.split('\n')[0]).toBe('-- db-tool: no-transaction');
      expect(outcome.up).toMatch(/\nCOMMIT;\n\n-- A transaction of its own: .*\nBEGIN;\nALTER TABLE app\.orders VALIDATE CONSTRAINT "price_positive";/);
      expect(outcome.up).toMatch(/ALTER TABLE app\.customer VALIDATE CONSTRAINT "customer_name_not_null";\n.*\nALTER TABLE app\.customer ALTER COLUMN "name" SET NOT NULL;/);
      expect(outcome.up).toMatch(/COMMIT;\n\n-- Outside a transaction: .*\nCREATE INDEX CONCURRENTLY orders_status_idx ON app\.orders USING btree \(status\);\n$/);
      expect(outcome.up).toContain("SET lock_timeout = '5s';");
      // The rows are still there after up and down: nothing but the dropped column was lost.
      const client = await connectTo(bed.cluster(), db1.name);
      try {
        expect((await client.query('SELECT count(*)::int AS n FROM app.orders')).rows[0].n).toBe(200);
      } finally {
        await client.end();
      }
    } finally {
      await dropAll(db1.name, db2.name);
    }
  });
});

/**
 * Writes the migration between DB1 and DB2 and proves it (SPEC §8 `--write-migration`):
 * up.sql is applied to DB1 itself (the restored copy, discarded after the run) the way
 * migrator applies a migration — psql, `BEGIN; <file> COMMIT;`, ON_ERROR_STOP — and the
 * schema comparison with DB2 is repeated; then down.sql is applied and the comparison
 * with DB1's original schema must come out identical too.
 */
import type { PgPrograms } from '../../pg/pg-bin.js';
import { withClient } from '../../pg/db.js';
import { runPsql, SqlError } from '../../pg/psql.js';
import { compareSchemas, schemasDiffer, type SchemaComparison } from '../compare-schema.js';
import { dumpSchema, mergeRepeatedKeys, type DumpOptions, type SchemaObject } from '../schema-dump.js';
import { readCatalog, type CatalogInfo } from './catalog.js';
import { planMigration, type PlanOptions } from './plan.js';
import { renderMigration, runsOutsideTransaction } from './render.js';
import type { MigrationPlan } from './statement.js';

export interface GeneratedMigration {
  up: { plan: MigrationPlan; sql: string };
  down: { plan: MigrationPlan; sql: string };
}

/** One direction of the proof: applied cleanly and converged, or what went wrong. */
export interface ProofStep {
  converged: boolean;
  /** psql's error when the file failed to apply. */
  error?: string;
  /** What still differs after applying (absent when the file failed). */
  remaining?: SchemaComparison;
  /** Not applied: the file needs manual steps first (down of an enum value addition). */
  needsManualSteps?: boolean;
}

export interface MigrationProof {
  up: ProofStep;
  /** Absent when up did not converge (down is proved only after a good up). */
  down?: ProofStep;
  proved: boolean;
}

/** Both databases' catalogs (start it early: it can run beside the schema dumps). */
export function readCatalogs(db1Url: string, db2Url: string): Promise<[CatalogInfo, CatalogInfo]> {
  return Promise.all([withClient(db1Url, readCatalog), withClient(db2Url, readCatalog)]);
}

/** Plans and renders up (db1 → db2) and down (db2 → db1) from both schemas and catalogs. */
export async function generateMigration(
  db1: { url: string; schema: readonly SchemaObject[] },
  db2: { url: string; schema: readonly SchemaObject[] },
  title: readonly string[],
  catalogs: Promise<[CatalogInfo, CatalogInfo]> = readCatalogs(db1.url, db2.url),
  options: PlanOptions = {},
): Promise<GeneratedMigration> {
  const [catalog1, catalog2] = await catalogs;
  const side1 = { objects: mergeRepeatedKeys(db1.schema), catalog: catalog1 };
  const side2 = { objects: mergeRepeatedKeys(db2.schema), catalog: catalog2 };
  const upPlan = planMigration(side1, side2, options);
  const downPlan = planMigration(side2, side1, options);
  return {
    up: { plan: upPlan, sql: renderMigration(upPlan, { title: [...title, 'up: DB1 (backup + migrations) → DB2 (sources)'] }) },
    down: { plan: downPlan, sql: renderMigration(downPlan, { title: [...title, 'down: DB2 (sources) → DB1 (backup + migrations)'], failOnManualSteps: true }) },
  };
}

/** Applies a migration file the way migrator does: one psql session, inside BEGIN … COMMIT unless it runs outside a transaction. */
export async function applyMigrationSql(config: PgPrograms, url: string, sql: string, what: string): Promise<string | undefined> {
  try {
    await runPsql(config, what, { url, sql: runsOutsideTransaction(sql) ? sql : `BEGIN;\n${sql}\nCOMMIT;\n`, output: 'pipe', args: ['-v', 'VERBOSITY=terse'] });
    return undefined;
  } catch (error) {
    if (error instanceof SqlError) return error.message;
    throw error;
  }
}

async function proveStep(config: PgPrograms, url: string, sql: string, expected: readonly SchemaObject[], what: string, dumpOptions: DumpOptions): Promise<ProofStep> {
  const error = await applyMigrationSql(config, url, sql, what);
  if (error !== undefined) return { converged: false, error };
  const remaining = compareSchemas(await dumpSchema(config, url, dumpOptions), expected);
  return { converged: !schemasDiffer(remaining), remaining };
}

/**
 * Proves `migration` on the database at `db1Url` (which it changes: use a copy). Up must
 * converge without manual steps. Down is applied after it and must converge, except when
 * it needs manual steps itself (undoing an enum value addition is a value removal): then
 * it is not applied, and the report says so.
 */
export async function proveMigration(
  config: PgPrograms,
  db1Url: string,
  schema1: readonly SchemaObject[],
  schema2: readonly SchemaObject[],
  migration: GeneratedMigration,
  dumpOptions: DumpOptions = {},
): Promise<MigrationProof> {
  const up = await proveStep(config, db1Url, migration.up.sql, schema2, 'up.sql', dumpOptions);
  if (!up.converged) return { up, proved: false };
  if (migration.up.plan.manualSteps.length > 0) return { up: { ...up, converged: false }, proved: false };
  if (migration.down.plan.manualSteps.length > 0) return { up, down: { converged: false, needsManualSteps: true }, proved: true };
  const down = await proveStep(config, db1Url, migration.down.sql, schema1, 'down.sql', dumpOptions);
  return { up, down, proved: down.converged };
}

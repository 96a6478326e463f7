/**
 * The proof `database check` adds to its build (SPEC §17): the migrations alone, run on
 * an empty database, reproduce the sources. A deploy records every migration as a
 * baseline without running it, so nothing else in the daily loop runs them from empty
 * — a migration that forgot a column the sources declare goes unnoticed until
 * production. The migrations' build runs in its own private cluster beside the sources'
 * build, and the two are compared by diff's own comparison (schema per object, the
 * data of the tables inheriting hectic.immutable); the result is diff's report.
 */
import fs from 'node:fs';
import type { Logger } from '../base/log.js';
import { clusterVersion, type ClusterConnection } from '../cluster/cluster-connection.js';
import type { ClusterSetup } from '../cluster/cluster.js';
import type { PgPrograms } from '../pg/pg-bin.js';
import { startPrivateCluster } from '../cluster/private-cluster.js';
import { MIGRATION_NAME } from '../migrations/migration-files.js';
import { runMigrations } from '../migrations/migrate.js';
import { dataDiffers } from './compare-data.js';
import { schemasDiffer } from './compare-schema.js';
import type { ComparedAspects, DiffResult } from './diff-result.js';
import { compareDatabases, schemaDumpOptions } from './compare-databases.js';
import { prefixLogger } from './diff-sides.js';
import { dumpSchema, type SchemaObject } from './schema-dump.js';

/** What the report calls the migrations' database. */
export const EMPTY_START = 'an empty database';

/** The migration folder to prove, or undefined when the project has no migrations (then there is nothing to prove). */
export function migrationsToProve(migrationDir: string | undefined): string | undefined {
  if (!migrationDir) return undefined;
  let entries: string[];
  try {
    entries = fs.readdirSync(migrationDir);
  } catch {
    return undefined;
  }
  return entries.some((name) => MIGRATION_NAME.test(name)) ? migrationDir : undefined;
}

export interface MigrationsBuild {
  connection: ClusterConnection;
  /** The migrations `migrate up all` applied, in order. */
  applied: string[];
  /** Its schema, dumped as soon as the migrations are done (while the sources may still build). */
  schema: Promise<SchemaObject[]>;
}

/** What the proof compares: diff's defaults (no privileges, column order counts). */
const COMPARED: ComparedAspects = { privileges: false, columnOrder: true };

/**
 * Starts a fresh private cluster in `workingDir` and runs every migration on its empty
 * database (`migrate up all`, which applies the hectic bundle first). A failing
 * migration keeps its own error (exit 4); the migrations' output is kept out of ours.
 */
export async function buildFromMigrations(config: ClusterSetup, log: Logger, workingDir: string, migrationDir: string): Promise<MigrationsBuild> {
  const prefixed = prefixLogger(log, 'migrations');
  const connection = await startPrivateCluster(config, prefixed, workingDir);
  const result = await prefixed.step('migrate up all (from empty)', () =>
    runMigrations(config, prefixed, { url: connection.url, migrationDir, request: { kind: 'up', count: 'all' }, vars: {}, force: false, dryRun: false, output: 'pipe' }),
  );
  return { connection, applied: result.completed.map((step) => step.name), schema: dumpForProof(config, prefixed, connection.url, clusterVersion(connection)) };
}

/** The schema of a built database, dumped the way the proof compares it (rejections are left to the comparison). */
export function dumpForProof(config: PgPrograms, log: Logger, url: string, serverVersion?: string): Promise<SchemaObject[]> {
  const schema = log.step('dump schema', () => dumpSchema(config, url, { ...schemaDumpOptions(COMPARED), serverVersion }));
  schema.catch(() => undefined); // awaited by the comparison, unless the other side failed first
  return schema;
}

export interface SourcesBuild {
  url: string;
  entrypoint: string;
  mock: boolean;
}

/**
 * Compares the migrations' database (DB1) with the sources' (DB2) the way `database
 * diff` compares its two: same objects, same reference data, same report. The sources'
 * schema is dumped at once, while the migrations may still be running.
 */
export async function compareWithSources(config: PgPrograms, log: Logger, migrations: Promise<MigrationsBuild>, sources: SourcesBuild): Promise<DiffResult> {
  const compared = COMPARED;
  const sourcesSchema = dumpForProof(config, log, sources.url);
  let built: MigrationsBuild;
  try {
    built = await migrations;
  } catch (error) {
    await sourcesSchema.catch(() => undefined); // no pg_dump outlives the check
    throw error;
  }
  const { schema, data } = await log.step('compare the migrations with the sources', () =>
    compareDatabases(config, { db1: built.connection.url, db2: sources.url }, { tables: [], aspects: compared, schemas: { db1: built.schema, db2: sourcesSchema } }),
  );
  return {
    identical: !schemasDiffer(schema) && !dataDiffers(data),
    backup: '',
    db1Start: EMPTY_START,
    migrationsApplied: built.applied,
    entrypoint: sources.entrypoint,
    mock: sources.mock,
    compared,
    schema,
    data,
  };
}

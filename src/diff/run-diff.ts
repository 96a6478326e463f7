/**
 * `database diff` (SPEC §8), the orchestration:
 *
 *   preflight  what can be checked without a cluster (backup, --tables, entrypoint);
 *   DB1        "production after deploy": a private cluster restored from the backup,
 *              then `migrate up all`;
 *   DB2        "sources": a private fresh cluster, hydrated, then `migrator init`;
 *   compare    the --tables are resolved first (exit 5), then schema dumps and data;
 *
 * DB1 and DB2 are built in parallel in one run folder `$LOCAL_DIR/focus/database-diff-<unique>/`
 * and always torn down — success, failure, SIGINT, SIGTERM — keeping only `logs/` for
 * `database diff log` (and, for a run that came to an end, the `finished` marker).
 *
 * The errors thrown here say what failed, so that the CLI can tell breakage from drift:
 * a side that cannot be built is a BuildFailedError, a failing migration stays a
 * MigrationFailedError, a table found nowhere a MissingTableError, and a built database
 * that cannot be read an InternalError; none of them reads as "differences found".
 */
import fs from 'node:fs';
import path from 'node:path';
import { hydrateEntrypoint } from '../deploy/hydrate.js';
import { requireLocalDir, type Config } from '../base/config.js';
import { isDbToolError, MissingTableError } from '../base/errors.js';
import { interruptedBy, throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { withRunDir, type RunDirSetup } from '../cluster/private-cluster.js';
import { clusterVersion } from '../cluster/cluster-connection.js';
import { assertBackupDir, backedUpDatabase, defaultBackupDir, readBackupInfo } from '../backup/backup-files.js';
import { prepareRestoredSpare } from '../backup/restored-spare.js';
import { dataDiffers } from './compare-data.js';
import { schemasDiffer } from './compare-schema.js';
import type { ComparedAspects, DiffResult } from './diff-result.js';
import { dumpSchema, type SchemaObject } from './schema-dump.js';
import { assertTableNames } from '../pg/table-names.js';
import { markRunFinished, pruneDiffRuns, DIFF_LOGS, DIFF_RUN_PREFIX, KEPT_DIFF_RUNS, type DiffRunOutcome } from './diff-runs.js';
import { checkMigrationRequest, writeProvedMigration } from './migration-writer/write-migration.js';
import { readCatalogs } from './migration-writer/prove.js';
import { diffSettled, type MigrationResult } from './migration-report.js';
import { allOrFirstError } from '../base/promises.js';
import { asBuildFailure, buildDb1, buildDb2, type BuildContext, type Db1, type Db2 } from './diff-sides.js';
import { compareDatabases, schemaDumpOptions } from './compare-databases.js';

export interface DiffOptions {
  /** BACKUP_PATH; default $LOCAL_DIR/focus/postgresql-backup. */
  backupPath?: string;
  /** --tables, names bare or schema-qualified. */
  tables?: readonly string[];
  /** -m/--mock: hydrate DB2 with USE_MOCK=1. */
  mock?: boolean;
  /** -H/--no-hook: hydrate DB2 without the hectic bundle (its `migrator init` still applies it afterwards). */
  noHook?: boolean;
  /** --privileges: also compare grants and default privileges (owners never). */
  privileges?: boolean;
  /** --ignore-column-order: a column's position in its table is not a difference. */
  ignoreColumnOrder?: boolean;
  /** --rows-file FILE: every differing row of the compared tables, not only the report's first ones. */
  rowsFile?: string;
  /** --write-migration NAME: write the proved migration into the migration folder. */
  writeMigration?: string;
  /** --sql: generate and prove the migration (its up.sql goes where the caller says). */
  migrationSql?: boolean;
  /** Named in the generated files' first line. */
  generator?: string;
}

export interface DiffRun extends DiffResult {
  /** The run folder (only its logs are left when this returns). */
  runDir: string;
  logDir: string;
}

/** What a run compares, settled before any cluster starts. */
export interface DiffPlan {
  backup: string;
  tables: string[];
  entrypoint: string;
  mock: boolean;
  noHook: boolean;
  aspects: ComparedAspects;
  /** --rows-file, as an absolute path. */
  rowsFile?: string;
  /** --write-migration / --sql, when asked for. */
  migration?: { name?: string; generator: string };
}

/**
 * Everything that can be checked without a cluster, checked before one starts:
 * --tables spelling (5), the backup (3), the hydrate entrypoint (2: the sources cannot build).
 */
export function planDiff(config: Pick<Config, 'cwd' | 'localDir' | 'databaseSource' | 'hydrateEntrypoint' | 'migrationDir'>, options: DiffOptions): DiffPlan {
  const tables = [...(options.tables ?? [])];
  try {
    assertTableNames(tables, '--tables');
  } catch (error) {
    throw isDbToolError(error) ? new MissingTableError(error.message) : error;
  }
  const backup = options.backupPath ? path.resolve(config.cwd, options.backupPath) : defaultBackupDir(config);
  assertBackupDir(backup);
  let entrypoint: string;
  try {
    entrypoint = hydrateEntrypoint(config);
  } catch (error) {
    throw asBuildFailure(error, 'DB2 (sources)');
  }
  const wantsMigration = options.writeMigration !== undefined || options.migrationSql === true;
  if (wantsMigration) checkMigrationRequest({ name: options.writeMigration, migrationDir: config.migrationDir });
  return {
    backup,
    tables,
    entrypoint,
    migration: wantsMigration ? { name: options.writeMigration, generator: options.generator ?? 'db-tool' } : undefined,
    mock: Boolean(options.mock),
    noHook: Boolean(options.noHook),
    rowsFile: options.rowsFile === undefined ? undefined : path.resolve(config.cwd, options.rowsFile),
    aspects: { privileges: Boolean(options.privileges), columnOrder: !options.ignoreColumnOrder },
  };
}

/** Runs `database diff` and returns what it found (the caller renders it). */
export async function runDiff(config: RunDirSetup & BuildContext['config'], log: Logger, options: DiffOptions = {}): Promise<DiffRun> {
  const plan = planDiff(config, options);
  const focusDir = path.join(requireLocalDir(config), 'focus');
  let runDir: string | undefined;
  let outcome: DiffRunOutcome = 'failed';
  try {
    const result = await withRunDir(
      config,
      DIFF_RUN_PREFIX,
      async (dir) => {
        runDir = dir;
        const runLogs = path.join(dir, DIFF_LOGS);
        fs.mkdirSync(runLogs, { mode: 0o755 });
        return diffInRunDir(config, log, plan, dir, runLogs);
      },
      [DIFF_LOGS],
    );
    outcome = diffSettled(result) ? 'settled' : 'different';
    return result;
  } finally {
    // Interrupted runs stay unmarked: they never push out the logs of finished ones.
    if (runDir && !interruptedBy()) {
      markRunFinished(runDir, outcome);
      pruneDiffRuns(focusDir, KEPT_DIFF_RUNS);
      // The next diff of this backup takes a copy unpacked meanwhile (restored-spare.ts).
      prepareRestoredSpare(config, plan.backup, backedUpDatabase(readBackupInfo(plan.backup), config.database), focusDir);
    }
  }
}

async function diffInRunDir(config: BuildContext['config'], log: Logger, plan: DiffPlan, runDir: string, runLogs: string): Promise<DiffRun> {
  // A signal runs the run dir's cleanup at once; work still in flight (tar, a template
  // copy) settles and stops at the next checkpoint, and the cleanup runs again once
  // everything has settled.
  const ctx: BuildContext = { config, log, runDir, runLogs, checkpoint: throwIfInterrupted };
  log.debug(`diff: run folder ${runDir}`);
  const building1 = buildDb1(ctx, plan.backup);
  const building2 = buildDb2(ctx, plan);
  // Each schema is dumped as soon as its side is built, while the other may still build.
  const dumpOptions = schemaDumpOptions(plan.aspects);
  const dump = (side: 'db1' | 'db2', built: Promise<Db1 | Db2>): Promise<SchemaObject[]> =>
    built.then(({ connection }) => log.step(`${side}: dump schema`, () => dumpSchema(config, connection.url, { ...dumpOptions, serverVersion: clusterVersion(connection) })));
  const schemas = { db1: dump('db1', building1), db2: dump('db2', building2) };
  // Seen by the comparison (or dropped with a failed build): not an unhandled rejection meanwhile.
  for (const schema of Object.values(schemas)) schema.catch(() => undefined);
  let db1: Db1;
  let db2: Db2;
  try {
    [db1, db2] = await allOrFirstError<[Db1, Db2]>([building1, building2]);
    ctx.checkpoint();
  } catch (error) {
    // No pg_dump may outlive the run (its servers are about to stop).
    await Promise.allSettled([schemas.db1, schemas.db2]);
    throw error;
  }
  const urls = { db1: db1.connection.url, db2: db2.connection.url };
  // The catalogs the migration writer needs are read beside the dumps.
  const catalogs = plan.migration ? readCatalogs(urls.db1, urls.db2) : undefined;
  catalogs?.catch(() => undefined);
  const { schema, data, dumps } = await log.step('compare', () => compareDatabases(config, urls, { tables: plan.tables, aspects: plan.aspects, rowsFile: plan.rowsFile, schemas }));
  let migration: MigrationResult | undefined;
  if (plan.migration && schemasDiffer(schema)) {
    // Last use of DB1: the proof applies up and down to it.
    const { name, generator } = plan.migration;
    const request = { name, migrationDir: config.migrationDir };
    const outcome = await log.step('write and prove the migration', () =>
      writeProvedMigration(config, { url: urls.db1, schema: dumps.db1 }, { url: urls.db2, schema: dumps.db2 }, request, generator, catalogs, {
        privileges: plan.aspects.privileges,
        ignoreColumnOrder: !plan.aspects.columnOrder,
      }),
    );
    migration = { ...outcome, name };
  }
  return {
    identical: !schemasDiffer(schema) && !dataDiffers(data),
    backup: plan.backup,
    db1Origin: db1.origin,
    migrationsApplied: db1.applied,
    entrypoint: db2.entrypoint,
    mock: plan.mock,
    compared: plan.aspects,
    rowsFile: plan.rowsFile,
    schema,
    data,
    rehearsal: db1.rehearsal,
    migration,
    runDir,
    logDir: runLogs,
  };
}

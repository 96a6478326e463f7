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
import { clusterLayout, type ClusterLayout } from '../cluster/cluster-layout.js';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { hydrateDatabase, hydrateEntrypoint } from '../deploy/hydrate.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';
import { runMigrations } from '../migrations/migrate.js';
import { installBundle } from '../migrations/migrator-init.js';
import { requireLocalDir, type Config } from '../base/config.js';
import {
  BadInputError,
  BuildFailedError,
  EnvironmentError,
  InternalError,
  isDbToolError,
  MissingTableError,
  ProgramFailedError,
  SqlFailedError,
  UnreachableError,
} from '../base/errors.js';
import { withClient } from '../pg/db.js';
import { interruptedBy, throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { serverUser } from '../cluster/os-user.js';
import { confSetting } from '../cluster/server-config.js';
import { serverPath } from '../cluster/server-files.js';
import { writeBelow } from '../base/safe-files.js';
import { makePrivateDataDir, startPrivateCluster, withRunDir } from '../cluster/private-cluster.js';
import { assertBackupDir, defaultBackupDir, extractBackup, readBackupInfo } from '../backup/backup-files.js';
import { describeOrigin, readMigrationHistory } from './db1-origin.js';
import { compareData, dataDiffers, selectTables, type TableDataComparison } from './compare-data.js';
import { compareSchemas, schemasDiffer, type SchemaComparison } from './compare-schema.js';
import type { ComparedAspects, DiffResult } from './diff-result.js';
import { dumpSchema, type DumpOptions, type SchemaObject } from './schema-dump.js';
import { assertTableNames } from '../pg/table-names.js';
import { markRunFinished, pruneDiffRuns, DIFF_LOGS, DIFF_RUN_PREFIX, KEPT_DIFF_RUNS, type DiffRunOutcome } from './diff-runs.js';
import { checkMigrationRequest, writeProvedMigration } from './migration-writer/write-migration.js';
import { readCatalogs } from './migration-writer/prove.js';
import { diffSettled, type MigrationResult } from './migration-report.js';
import { readRehearsal, rehearsalHooks, type RehearsedMigration } from './rehearsal.js';

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

/** A logger whose lines say which database they are about (the two builds interleave). */
export function prefixLogger(log: Logger, prefix: string): Logger {
  const p = (message: string): string => `${prefix}: ${message}`;
  return {
    level: log.level,
    color: log.color,
    interactive: log.interactive,
    trace: (m) => log.trace(p(m)),
    debug: (m) => log.debug(p(m)),
    info: (m) => log.info(p(m)),
    notice: (m) => log.notice(p(m)),
    warn: (m) => log.warn(p(m)),
    error: (m) => log.error(p(m)),
    step: (title, run) => log.step(p(title), run),
    write: (text) => log.write(text),
  };
}

/**
 * A restored copy of a (possibly production) cluster must stay private: no TCP, no WAL
 * archiving into the original's archive, logs in this run's folder, pg_cron pointed at
 * its own socket and not launching jobs, no autovacuum workers.
 */
export function restoredCopySettings(layout: Pick<ClusterLayout, 'logDir' | 'sockDir'>): string {
  return [
    '',
    '# db-tool diff: a throw-away copy restored from a backup',
    "listen_addresses = ''",
    'archive_mode = off',
    // Short-lived, and holding only the compared database and template1 (see foldersToSkip).
    'autovacuum = off',
    confSetting('log_directory', layout.logDir),
    confSetting('cron.host', layout.sockDir),
    'cron.launch_active_jobs = off',
    '',
  ].join('\n');
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

/** One side's build: the run's folders and how far the run is. */
export interface BuildContext {
  config: Config;
  log: Logger;
  runDir: string;
  runLogs: string;
  /** Throws once the run is interrupted (called between steps). */
  checkpoint: () => void;
}

export interface Db1 {
  connection: ClusterConnection;
  /** Migrations `migrate up all` applied. */
  applied: string[];
  /** What each of them did on the backup's data. */
  rehearsal: RehearsedMigration[];
  /** Where the backup's database came from (the report's provenance line). */
  origin: string;
}

export interface Db2 {
  connection: ClusterConnection;
  entrypoint: string;
}

/** What the comparison of two built databases found. */
export interface Comparison {
  schema: SchemaComparison;
  data: TableDataComparison[];
  /** Both schemas in dump order (the migration writer plans from them). */
  dumps: { db1: SchemaObject[]; db2: SchemaObject[] };
}

/**
 * True for the failures of a step that just went wrong (bad input in the sources, an SQL
 * error, a program or a connection that failed, a file that cannot be used); not for the
 * errors that say something of their own (a failed migration, a missing backup, a
 * conflict, a missing program, a bug, an interruption).
 */
function isStepFailure(error: unknown): error is BadInputError | SqlFailedError | ProgramFailedError | UnreachableError | EnvironmentError {
  return (
    error instanceof BadInputError ||
    error instanceof SqlFailedError ||
    error instanceof ProgramFailedError ||
    error instanceof UnreachableError ||
    error instanceof EnvironmentError
  );
}

/** True for a failure to read a database: a query, pg_dump, or the connection. */
function isReadFailure(error: unknown): error is SqlFailedError | ProgramFailedError | UnreachableError {
  return error instanceof SqlFailedError || error instanceof ProgramFailedError || error instanceof UnreachableError;
}

/** A step failure of one side's build as "that side could not be built"; other errors as they are. */
function asBuildFailure(error: unknown, what: string): unknown {
  return isStepFailure(error) ? new BuildFailedError(`${what} could not be built: ${error.message}`, error.details) : error;
}

/**
 * Everything that can be checked without a cluster, checked before one starts:
 * --tables spelling (5), the backup (3), the hydrate entrypoint (2: the sources cannot build).
 */
export function planDiff(config: Config, options: DiffOptions): DiffPlan {
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

/** True when there is a migration folder to run (a project without one diffs backup vs sources). */
function hasMigrationDir(dir: string | undefined): dir is string {
  return dir !== undefined && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** Restores the backup into a private cluster of `db1/` and starts it. */
async function restoreDb1(ctx: BuildContext, log: Logger, backup: string): Promise<ClusterConnection> {
  const { config } = ctx;
  const workingDir = path.join(ctx.runDir, 'db1');
  const logDir = path.join(ctx.runLogs, 'db1');
  const layout = clusterLayout(config, workingDir);
  const { dataDir, sockDir } = layout;
  try {
    fs.mkdirSync(workingDir, { mode: 0o755 });
    makePrivateDataDir(config, workingDir);
    const user = serverUser(config);
    await log.step(`restore ${backup}`, () => extractBackup(config, backup, dataDir, user, { onlyDatabase: config.database }));
    // The restored files are the server account's: never written through a link of theirs.
    const conf = serverPath(layout, path.join(dataDir, 'postgresql.conf'));
    writeBelow(conf.anchor, conf.path, restoredCopySettings({ logDir, sockDir }), 'append', { owners: [user.uid] });
    ctx.checkpoint();
    return await startPrivateCluster(config, log, workingDir, { logDir, existingData: true });
  } catch (error) {
    throw asBuildFailure(error, 'DB1 (the restored backup)');
  }
}

/** DB1: the backup restored, then `migrate up all` (a failing migration stays exit 4). */
export async function buildDb1(ctx: BuildContext, backup: string): Promise<Db1> {
  const log = prefixLogger(ctx.log, 'db1');
  const connection = await restoreDb1(ctx, log, backup);
  ctx.checkpoint();
  // Read before `migrate up all` adds to the history.
  const history = await withClient(connection.url, readMigrationHistory).catch((error: unknown) => {
    throw asBuildFailure(error, 'DB1 (the restored backup)');
  });
  const origin = describeOrigin(readBackupInfo(backup), history);
  const migrationDir = ctx.config.migrationDir;
  if (!hasMigrationDir(migrationDir)) {
    log.warn(`no migration folder${migrationDir ? ` at ${migrationDir}` : ''}: DB1 is the backup as it is (plus migrator init)`);
    await installBundle(log, connection.url);
    return { connection, applied: [], rehearsal: [], origin };
  }
  const output = fs.openSync(path.join(ctx.runLogs, 'migrate.stdout.log'), 'a');
  try {
    // The rehearsal: what each pending migration locks and rewrites on the backup's data.
    const readings = fs.mkdtempSync(path.join(ctx.runDir, 'rehearsal-'));
    const hooks = rehearsalHooks(readings);
    const result = await log.step('migrate up all', () =>
      runMigrations(ctx.config, log, { url: connection.url, migrationDir, request: { kind: 'up', count: 'all' }, vars: {}, force: false, dryRun: false, output, hooks }),
    );
    return { connection, applied: result.completed.map((step) => step.name), rehearsal: readRehearsal(readings, result.completed), origin };
  } catch (error) {
    // A failing migration stays exit 4, a history mismatch 2; a malformed folder is exit 2 too.
    throw asBuildFailure(error, 'DB1 (backup + migrations)');
  } finally {
    fs.closeSync(output);
  }
}

/** DB2: a fresh cluster hydrated from the sources (their failure is exit 2), then `migrator init`. */
export async function buildDb2(ctx: BuildContext, plan: Pick<DiffPlan, 'mock' | 'noHook'>): Promise<Db2> {
  const log = prefixLogger(ctx.log, 'db2');
  const logDir = path.join(ctx.runLogs, 'db2');
  try {
    const connection = await startPrivateCluster(ctx.config, log, path.join(ctx.runDir, 'db2'), { logDir });
    ctx.checkpoint();
    const { entrypoint } = await hydrateDatabase(ctx.config, log, connection.url, {
      mock: plan.mock,
      noHook: plan.noHook,
      outputFile: path.join(ctx.runLogs, 'hydrate.stdout.log'),
      baseline: baselineFromDisk(ctx.config.migrationDir, log),
    });
    ctx.checkpoint();
    await log.step('migrator init', () => installBundle(log, connection.url));
    return { connection, entrypoint };
  } catch (error) {
    throw asBuildFailure(error, 'DB2 (sources)');
  }
}

/**
 * Waits for every promise, then throws the first failure in argument order: a
 * cluster still starting must not be left behind by an early rejection.
 */
export async function allOrFirstError<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export interface CompareOptions {
  tables: readonly string[];
  aspects: ComparedAspects;
  /** Writes every differing row to this file (the result keeps the first DEFAULT_ROW_LIMIT per table). */
  rowsFile?: string;
  /** Differing rows kept per table; default DEFAULT_ROW_LIMIT. */
  rowLimit?: number;
  /**
   * Schema dumps the caller started early, each as soon as its side was built (with
   * `schemaDumpOptions(aspects)`), while the other side may still be building.
   */
  schemas?: { db1?: Promise<SchemaObject[]>; db2?: Promise<SchemaObject[]> };
}

/** pg_dump's options for the aspects a run compares. */
export function schemaDumpOptions(aspects: ComparedAspects): DumpOptions {
  return { privileges: aspects.privileges, ignoreColumnOrder: !aspects.columnOrder };
}

/**
 * Compares two built databases: the --tables are resolved first (a name found in
 * neither → exit 5, before any dump unless the dumps were started already), then
 * schema dumps and data side by side.
 */
export async function compareDatabases(config: Config, urls: { db1: string; db2: string }, options: CompareOptions): Promise<Comparison> {
  try {
    return await withClient(urls.db1, (client1) =>
      withClient(urls.db2, async (client2) => {
        const tables = await selectTables(client1, client2, options.tables);
        const dumpOptions = schemaDumpOptions(options.aspects);
        const [schema1, schema2, data] = await allOrFirstError<[SchemaObject[], SchemaObject[], TableDataComparison[]]>([
          options.schemas?.db1 ?? dumpSchema(config, urls.db1, dumpOptions),
          options.schemas?.db2 ?? dumpSchema(config, urls.db2, dumpOptions),
          compareData(client1, client2, tables, { rowsFile: options.rowsFile, rowLimit: options.rowLimit }),
        ]);
        return { schema: compareSchemas(schema1, schema2), data, dumps: { db1: schema1, db2: schema2 } };
      }),
    );
  } catch (error) {
    // The databases were just built: failing to read them (a query, pg_dump, a connection)
    // is unexpected state, not a difference. A rows file that cannot be written stays what it is.
    if (isReadFailure(error)) throw new InternalError(`comparing DB1 and DB2 failed: ${error.message}`, error.details);
    throw error;
  }
}

/** Runs `database diff` and returns what it found (the caller renders it). */
export async function runDiff(config: Config, log: Logger, options: DiffOptions = {}): Promise<DiffRun> {
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
    }
  }
}

async function diffInRunDir(config: Config, log: Logger, plan: DiffPlan, runDir: string, runLogs: string): Promise<DiffRun> {
  // A signal runs the run dir's cleanup at once; work still in flight (tar, a template
  // copy) settles and stops at the next checkpoint, and the cleanup runs again once
  // everything has settled.
  const ctx: BuildContext = { config, log, runDir, runLogs, checkpoint: throwIfInterrupted };
  log.debug(`diff: run folder ${runDir}`);
  const building1 = buildDb1(ctx, plan.backup);
  const building2 = buildDb2(ctx, plan);
  // Each schema is dumped as soon as its side is built, while the other may still build.
  const dump = (side: 'db1' | 'db2', built: Promise<Db1 | Db2>): Promise<SchemaObject[]> =>
    built.then((db) => log.step(`${side}: dump schema`, () => dumpSchema(config, db.connection.url, schemaDumpOptions(plan.aspects))));
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

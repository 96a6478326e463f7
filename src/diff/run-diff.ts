/**
 * `database diff` (SPEC §8), the orchestration:
 *
 *   DB1 "production after deploy": a private cluster restored from the backup, then
 *       `migrate up all`;
 *   DB2 "sources": a private fresh cluster, hydrated, then `migrator init`;
 *
 * both built in parallel in one run folder `$LOCAL_DIR/focus/database-diff-<unique>/`,
 * compared (schema dumps in parallel with the data comparison), and always torn down
 * — success, failure, SIGINT, SIGTERM — keeping only `logs/` for `database diff log`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, type ClusterLayout } from '../cluster/cluster-layout.js';
import { initCluster, type ClusterConnection } from '../cluster/cluster.js';
import { hydrateDatabase, hydrateEntrypoint } from '../build/hydrate.js';
import { migrateCommand } from '../migrations/migrate.js';
import { migratorInitCommand } from '../migrations/migrator-init.js';
import { requireLocalDir, type Config } from '../base/config.js';
import { quoteLiteral, withClient } from '../pg/db.js';
import { throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { serverUser } from '../cluster/os-user.js';
import { makePrivateDataDir, startPrivateCluster, withRunDir } from '../cluster/private-cluster.js';
import { assertBackupDir, defaultBackupDir, extractBackup } from '../backup/backup-files.js';
import { compareData, dataDiffers, type TableDataComparison } from './compare-data.js';
import { compareSchemas, schemasDiffer } from './compare-schema.js';
import type { DiffResult } from './report.js';
import { dumpSchema, type SchemaObject } from './schema-dump.js';
import { assertTableNames } from '../pg/table-names.js';

export const DIFF_RUN_PREFIX = 'database-diff';
/** The entry of a run folder that outlives the run. */
export const DIFF_LOGS = 'logs';
/** Finished runs whose logs are kept (the newest ones). */
export const KEPT_DIFF_RUNS = 5;

export interface DiffOptions {
  /** BACKUP_PATH; default $LOCAL_DIR/focus/postgresql-backup. */
  backupPath?: string;
  /** --tables, names bare or schema-qualified. */
  tables?: readonly string[];
  /** -m/--mock: hydrate DB2 with USE_MOCK=1. */
  mock?: boolean;
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

/** The configuration of a private cluster of this run: its own logs, psql output kept in logs/. */
function privateConfig(config: Config, logDir: string, runLogs: string): Config {
  return {
    ...config,
    logPath: logDir,
    reuse: false,
    pgUrlVar: 'PGURL',
    hydrateLog: path.join(runLogs, 'hydrate.stdout.log'),
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
    `log_directory = ${quoteLiteral(layout.logDir)}`,
    `cron.host = ${quoteLiteral(layout.sockDir)}`,
    'cron.launch_active_jobs = off',
    '',
  ].join('\n');
}

interface BuildContext {
  config: Config;
  log: Logger;
  runDir: string;
  runLogs: string;
  checkpoint: () => void;
}

interface Db1 {
  connection: ClusterConnection;
  applied: string[];
}

interface Db2 {
  connection: ClusterConnection;
  entrypoint: string;
}

/** True when there is a migration folder to run (a project without one diffs backup vs sources). */
function hasMigrationDir(dir: string | undefined): dir is string {
  return dir !== undefined && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}

async function buildDb1(ctx: BuildContext, backup: string): Promise<Db1> {
  const log = prefixLogger(ctx.log, 'db1');
  const workingDir = path.join(ctx.runDir, 'db1');
  const config = privateConfig(ctx.config, path.join(ctx.runLogs, 'db1'), ctx.runLogs);
  const layout = clusterLayout(config, workingDir);
  fs.mkdirSync(workingDir, { mode: 0o755 });
  makePrivateDataDir(config, workingDir);
  await log.step(`restore ${backup}`, () => extractBackup(config, backup, layout.dataDir, serverUser(config), { onlyDatabase: config.database }));
  fs.appendFileSync(path.join(layout.dataDir, 'postgresql.conf'), restoredCopySettings(layout));
  ctx.checkpoint();
  const connection = await initCluster(config, log, { reuse: true, workingDir, spare: false });
  ctx.checkpoint();
  const migrationDir = config.migrationDir;
  if (!hasMigrationDir(migrationDir)) {
    log.warn(`no migration folder${migrationDir ? ` at ${migrationDir}` : ''}: DB1 is the backup as it is (plus migrator init)`);
    await migratorInitCommand(log, connection.url);
    return { connection, applied: [] };
  }
  const output = fs.openSync(path.join(ctx.runLogs, 'migrate.stdout.log'), 'a');
  try {
    const result = await log.step('migrate up all', () =>
      migrateCommand(config, log, { url: connection.url, migrationDir, request: { kind: 'up', count: 'all' }, vars: {}, force: false, dryRun: false, output }),
    );
    return { connection, applied: result.completed.map((step) => step.name) };
  } finally {
    fs.closeSync(output);
  }
}

async function buildDb2(ctx: BuildContext, mock: boolean): Promise<Db2> {
  const log = prefixLogger(ctx.log, 'db2');
  const logDir = path.join(ctx.runLogs, 'db2');
  const config = privateConfig(ctx.config, logDir, ctx.runLogs);
  const connection = await startPrivateCluster(config, log, path.join(ctx.runDir, 'db2'), { logDir });
  ctx.checkpoint();
  const { entrypoint } = await hydrateDatabase(config, log, connection.url, { mock });
  ctx.checkpoint();
  await log.step('migrator init', () => migratorInitCommand(log, connection.url));
  return { connection, entrypoint };
}

/**
 * Waits for every promise, then throws the first failure in argument order: a
 * cluster still starting must not be left behind by an early rejection.
 */
async function allOrFirstError<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Older run folders that hold nothing but their logs, beyond the newest `keep`. */
export function staleDiffRuns(focusDir: string, keep: number): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(focusDir).filter((name) => name.startsWith(`${DIFF_RUN_PREFIX}-`));
  } catch {
    return [];
  }
  const finished = entries
    .map((name) => path.join(focusDir, name))
    .filter((dir) => {
      try {
        const inside = fs.readdirSync(dir);
        return inside.length === 1 && inside[0] === DIFF_LOGS;
      } catch {
        return false;
      }
    })
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return finished.slice(keep);
}

/** Runs `database diff` and returns what it found (the caller renders it). */
export async function runDiff(config: Config, log: Logger, options: DiffOptions = {}): Promise<DiffRun> {
  const tables = [...(options.tables ?? [])];
  assertTableNames(tables, '--tables');
  const backup = options.backupPath ? path.resolve(config.cwd, options.backupPath) : defaultBackupDir(config);
  // Everything that can be checked without a cluster is checked before one starts.
  assertBackupDir(backup);
  hydrateEntrypoint(config);
  const focusDir = path.join(requireLocalDir(config), 'focus');
  for (const stale of staleDiffRuns(focusDir, KEPT_DIFF_RUNS - 1)) fs.rmSync(stale, { recursive: true, force: true });

  return withRunDir(
    config,
    DIFF_RUN_PREFIX,
    async (runDir) => {
      const runLogs = path.join(runDir, DIFF_LOGS);
      fs.mkdirSync(runLogs, { mode: 0o755 });
      // A signal runs the run dir's cleanup at once; work still in flight (tar, a
      // template copy) settles and stops at the next checkpoint, and the cleanup runs
      // again once everything has settled.
      const ctx: BuildContext = { config, log, runDir, runLogs, checkpoint: throwIfInterrupted };
      log.debug(`diff: run folder ${runDir}`);
      const [db1, db2] = await allOrFirstError<[Db1, Db2]>([buildDb1(ctx, backup), buildDb2(ctx, Boolean(options.mock))]);
      const [schema1, schema2, data] = await log.step('compare', () =>
        allOrFirstError<[SchemaObject[], SchemaObject[], TableDataComparison[]]>([
          dumpSchema(config, db1.connection.url),
          dumpSchema(config, db2.connection.url),
          withClient(db1.connection.url, (client1) => withClient(db2.connection.url, (client2) => compareData(client1, client2, tables))),
        ]),
      );
      const schema = compareSchemas(schema1, schema2);
      return {
        identical: !schemasDiffer(schema) && !dataDiffers(data),
        backup,
        migrationsApplied: db1.applied,
        entrypoint: db2.entrypoint,
        mock: Boolean(options.mock),
        schema,
        data,
        runDir,
        logDir: runLogs,
      };
    },
    [DIFF_LOGS],
  );
}

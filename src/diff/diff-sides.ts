/**
 * The two sides of a diff, built in parallel in one run folder: DB1, the backup restored
 * into a private cluster and migrated (`migrate up all`, each migration's locks and
 * rewrites rehearsed); DB2, a fresh private cluster hydrated from the sources. A side
 * that cannot be built is a BuildFailedError; a failing migration stays a
 * MigrationFailedError.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, type ClusterLayout } from '../cluster/cluster-layout.js';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { hydrateDatabase, recordBaseline, type HydrateSettings } from '../deploy/hydrate.js';
import { applyBundle } from '../deploy/bundle.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';
import { runMigrations } from '../migrations/migrate.js';
import { installBundle } from '../migrations/migrator-init.js';
import type { Config } from '../base/config.js';
import { BadInputError, BuildFailedError, EnvironmentError, MissingInputError, ProgramFailedError, SqlFailedError, UnreachableError } from '../base/errors.js';
import { withClient } from '../pg/db.js';
import type { Logger } from '../base/log.js';
import { serverUser } from '../cluster/os-user.js';
import type { OsUser } from '../base/process.js';
import { confSetting } from '../cluster/server-config.js';
import { overrideLines, privateOverrides, readRestoredCopy, type CopyOverride } from '../cluster/restored-copy.js';
import { prepareCopyFiles } from '../cluster/restored-copy-files.js';
import { ensureToolRole } from '../cluster/restored-copy-role.js';
import { serverPath } from '../cluster/server-files.js';
import { writeBelow } from '../base/safe-files.js';
import { linkPrivateRamData, makePrivateRamData, startPrivateCluster } from '../cluster/private-cluster.js';
import type { ClusterSetup } from '../cluster/cluster.js';
import { backedUpDatabase, extractBackup, mayLackRole, readBackupInfo, type BackupInfo } from '../backup/backup-files.js';
import { takeRestoredSpare } from '../backup/restored-spare.js';
import { describeOrigin, readMigrationHistory } from './db1-origin.js';
import { readRehearsal, rehearsalHooks, type RehearsedMigration } from './rehearsal.js';
import type { DiffPlan } from './run-diff.js';

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
 * A restored copy of a (possibly production) cluster must start here and stay private:
 * `overrides` (restored-copy.ts: no TCP, no SSL, no WAL archiving into the original's
 * archive, and production's memory, huge pages and preload libraries made to fit this
 * machine); on top of them DB1's own: logs in this run's folder, pg_cron pointed at its
 * own socket and not launching jobs, no autovacuum workers. Whatever the original set
 * with ALTER SYSTEM: these go last in its postgresql.auto.conf.
 */
export function restoredCopySettings(layout: Pick<ClusterLayout, 'logDir' | 'sockDir'>, overrides: readonly CopyOverride[] = privateOverrides()): string {
  return [
    '',
    '# db-tool diff: a throw-away copy restored from a backup',
    ...overrideLines(overrides),
    // Short-lived, and holding only the compared database and template1 (see foldersToSkip).
    'autovacuum = off',
    confSetting('log_directory', layout.logDir),
    confSetting('cron.host', layout.sockDir),
    'cron.launch_active_jobs = off',
    '',
  ].join('\n');
}

/**
 * Makes the restored copy in `layout.dataDir` start here (restored-copy.ts) and stay
 * private, its logs in `logDir`. Its configuration files are made usable first (a
 * postgresql.conf when the backup has none, the run's port and socket, the tool's
 * `trust` lines first in pg_hba.conf); then restoredCopySettings go last in
 * postgresql.auto.conf, which the server reads last, so the backup's ALTER SYSTEM
 * settings (archive_mode, archive_command, listen_addresses…) cannot win over them; then
 * the role the run connects as, when the backup does not say the copy has it. One
 * warning for each setting of production that cannot work here; the memory, the privacy
 * settings and the files are DB1's by design, not worth a line on every diff. The
 * restored files are the server account's: never written through a link of theirs.
 */
async function configureDb1(config: ClusterSetup, log: Logger, layout: ClusterLayout, logDir: string, user: OsUser, info: BackupInfo | undefined): Promise<void> {
  const data = serverPath(layout, layout.dataDir);
  prepareCopyFiles(config, data.anchor, data.path, user);
  const copy = await readRestoredCopy(config, data.anchor, data.path, user, { explainPrivate: false, throwAway: true });
  for (const because of [...copy.replaced, ...copy.overrides.map((override) => override.because)]) if (because) log.warn(because('DB1'));
  const conf = path.join(data.path, 'postgresql.auto.conf');
  writeBelow(data.anchor, conf, restoredCopySettings({ logDir, sockDir: layout.sockDir }, copy.overrides), 'append', { owners: [user.uid] });
  if (mayLackRole(info, user.name)) await ensureToolRole(config, data.path, user);
}

/** One side's build: the run's folders and how far the run is. */
export interface BuildContext {
  config: ClusterSetup & HydrateSettings & Pick<Config, 'migrationDir'>;
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

/** A step failure of one side's build as "that side could not be built"; other errors as they are. */
export function asBuildFailure(error: unknown, what: string): unknown {
  return isStepFailure(error) ? new BuildFailedError(`${what} could not be built: ${error.message}`, error.details) : error;
}

/** True when there is a migration folder to run (a project without one diffs backup vs sources). */
function hasMigrationDir(dir: string | undefined): dir is string {
  return dir !== undefined && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Restores the backup into a private cluster of `db1/` and starts it. DB1 is the
 * database the backup was taken of (PG_DATABASE when the backup does not say), which the
 * copy must hold: an empty one made in its place would be compared as production.
 */
async function restoreDb1(ctx: BuildContext, log: Logger, backup: string, info: BackupInfo | undefined): Promise<ClusterConnection> {
  const config = { ...ctx.config, database: backedUpDatabase(info, ctx.config.database) };
  const workingDir = path.join(ctx.runDir, 'db1');
  const logDir = path.join(ctx.runLogs, 'db1');
  const layout = clusterLayout(config, workingDir);
  const { dataDir } = layout;
  try {
    fs.mkdirSync(workingDir, { mode: 0o755 });
    const user = serverUser(config);
    // A copy a background preparation unpacked after the last diff (restored-spare.ts), else unpacked now.
    const linkRam = (): string | undefined => linkPrivateRamData(config, workingDir);
    if (takeRestoredSpare(config, backup, config.database, dataDir, linkRam)) {
      log.debug(`restore ${backup}: a restored copy kept ready, renamed in`);
    } else {
      const ramData = linkRam();
      if (ramData) makePrivateRamData(config, ramData);
      await log.step(`restore ${backup}`, () => extractBackup(config, backup, dataDir, user, { onlyDatabase: config.database }));
    }
    await configureDb1(config, log, layout, logDir, user, info);
    ctx.checkpoint();
    return await startPrivateCluster(config, log, workingDir, { logDir, existingData: true });
  } catch (error) {
    if (error instanceof MissingInputError) {
      throw new MissingInputError(`the backup ${backup} holds no database ${config.database}${info ? '' : ' (it does not say which it holds: set PG_DATABASE to that one)'}`);
    }
    throw asBuildFailure(error, 'DB1 (the restored backup)');
  }
}

/** DB1: the backup restored, then `migrate up all` (a failing migration stays exit 4). */
export async function buildDb1(ctx: BuildContext, backup: string): Promise<Db1> {
  const log = prefixLogger(ctx.log, 'db1');
  const info = readBackupInfo(backup);
  const connection = await restoreDb1(ctx, log, backup, info);
  ctx.checkpoint();
  // Read before `migrate up all` adds to the history.
  const history = await withClient(connection.url, readMigrationHistory).catch((error: unknown) => {
    throw asBuildFailure(error, 'DB1 (the restored backup)');
  });
  const origin = describeOrigin(info, history);
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
    });
    ctx.checkpoint();
    // As hydrate records it, then `migrator init`, in one session: a connection to a new
    // server costs as much as either step.
    await withClient(connection.url, async (client) => {
      await recordBaseline(client, baselineFromDisk(ctx.config.migrationDir, log), log);
      await log.step('migrator init', () => applyBundle(client, log));
    });
    return { connection, entrypoint };
  } catch (error) {
    throw asBuildFailure(error, 'DB2 (sources)');
  }
}

/**
 * The project's cluster (SPEC §4): make or keep it, configure it, start it, create the
 * database, and say how to reach it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, clusterUrl, MARKER_FILE, projectSettings, scratchName, socketDirProblem, socketFile, type ClusterLayout, type ClusterSettings, type LayoutSettings } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { loadDriver, quoteIdent, withClient } from '../pg/db.js';
import { BadInputError, EnvironmentError, MissingInputError } from '../base/errors.js';
import { makeDirs, sameFileSystem } from '../base/folders.js';
import { chownBelow, makeDirsBelow, writeBelow } from '../base/safe-files.js';
import { removeBelow } from '../base/safe-remove.js';
import { serverFolderAnchor, serverPath, type ServerPath } from './server-files.js';
import { explainFsFaults } from '../base/fs-faults.js';
import type { Logger } from '../base/log.js';
import { isRoot, serverUser, userCanReach } from './os-user.js';
import type { OsUser } from '../base/process.js';
import { generatedSettings, installConf, managedBlock, readUserConf, SECRET_CONF, writeManagedBlock, writeSecretKey } from './server-config.js';
import { runningServer, startServer, stopServer } from './server-process.js';
import { linkRamDataDir } from './ram-storage.js';
import { stopSparePreparations } from './ram-spares.js';
import { hasSpare, prepareSpare } from './spare-cluster.js';
import { createDataDir, templateFor } from './template-cache.js';
import { connectionFor, recordServer, type ClusterConnection, type ProjectCluster } from './cluster-connection.js';
import { resolvePreloadLibraries, type PreloadSettings } from './preload-libraries.js';
import { removeAbandonedTrash, stopForWipe, wipeCluster } from './cluster-wipe.js';

export interface InitOptions {
  /** Keep an existing cluster instead of wiping it (PG_REUSE / --reuse). */
  reuse: boolean;
  /** Another working dir than the configured one (private clusters of check/diff). */
  workingDir?: string;
  /** Keep spare fresh clusters in the working dir for the next start (default true; not for throw-away ones). */
  spare?: boolean;
  /** Put a fresh cluster's data folder in RAM when possible (throw-away clusters). */
  ramData?: boolean;
  /**
   * A working dir whose spare (postgres-init keeps them ready) a throw-away cluster
   * takes when there is one: renamed in, nothing copied; refilled in the background.
   */
  spareFrom?: string;
  /** Told where a fresh cluster's data came from (a spare, the template cache, initdb). */
  onDataSource?: (source: DataSource) => void;
  /** Create the database when kept data lacks it (default true; a restored copy's must be there). */
  createDatabase?: boolean;
  /** Log folder and URL variable; default the project's (PG_LOG_PATH, PG_URL_VAR). */
  settings?: ClusterSettings;
}

/**
 * Gives a folder or file we made to the server account when we are root: through its
 * descriptor, never through a link planted below `anchor` (safe-files.ts).
 */
function handOver(config: Pick<Config, 'euid'>, place: ServerPath, user: OsUser): void {
  if (isRoot(config)) chownBelow(place.anchor, place.path, user.uid, user.gid);
}

function prepareWorkingDir(config: Pick<Config, 'euid'>, dir: string, user: OsUser): void {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new BadInputError(`working dir is not a folder: ${dir}`);
  makeDirs(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new EnvironmentError(`working dir is not writable: ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  handOver(config, { anchor: dir, path: dir }, user);
  explainFsFaults(`cannot prepare ${dir}`, () => {
    try {
      writeBelow(dir, path.join(dir, MARKER_FILE), 'This folder was made by db-tool; `database cleanup` removes it.\n', 'create', { mode: 0o644 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  });
}

/** As root, the server account must be able to reach and write the folder. */
async function checkReachable(config: Pick<Config, 'env' | 'euid'>, dir: string, user: OsUser): Promise<void> {
  if (!isRoot(config)) return;
  if (!(await userCanReach(config.env, dir, user, true))) {
    throw new EnvironmentError(
      `PG_OS_USER '${user.name}' cannot reach ${dir}: a parent folder is not traversable by that user ` +
        '(e.g. /root is mode 0700); put the project or PG_WORKING_DIR elsewhere, or set PG_OS_USER',
    );
  }
}

/** Makes a folder of the cluster (its anchor exists or is made) and hands it over. */
function makeOwnedDir(config: Pick<Config, 'euid'>, layout: ClusterLayout, dir: string, user: OsUser): void {
  const place = serverPath(layout, dir);
  makeDirs(place.anchor);
  makeDirsBelow(place.anchor, place.path, 0o700);
  handOver(config, place, user);
}

/**
 * The settings that make, configure and start the project's cluster (or a private one):
 * where it lives, who runs it, which PostgreSQL, its configuration, the template cache.
 */
export type ClusterSetup = ProjectCluster & PreloadSettings & Pick<Config, 'confFile' | 'disableLogging' | 'inheritanceExcludedSchemas' | 'cacheDir' | 'noTty' | 'spares'>;

type FreshConf = Parameters<typeof installConf>[2];

/** The configuration of a fresh cluster, settled before anything is stopped or wiped. */
async function freshConf(config: PreloadSettings & Pick<Config, 'confFile' | 'disableLogging'>, layout: ClusterLayout, log: Logger): Promise<FreshConf> {
  return config.confFile
    ? { replace: readUserConf(config.confFile) }
    : { append: generatedSettings(config, layout, await resolvePreloadLibraries(config, log)) };
}

interface FreshOptions {
  /** Where a spare may be taken from. */
  spareDir: string | undefined;
  ramData: boolean;
}

export type DataSource = Awaited<ReturnType<typeof createDataDir>>;

/** Fills `target` (which must not exist) with a fresh, configured cluster. */
async function makeFreshData(config: ClusterSetup, layout: ClusterLayout, target: string, user: OsUser, conf: FreshConf, log: Logger, spareDir: string | undefined): Promise<DataSource> {
  const source = await createDataDir(config, target, user, layout.database, log, spareDir);
  log.debug(`data folder ${layout.dataDir} made by ${source}`);
  // `target` is new data in the working dir, or in a RAM folder of the server account.
  const anchor = serverFolderAnchor(target);
  explainFsFaults(`cannot configure the cluster in ${layout.workingDir}`, () => {
    installConf(anchor, target, conf, user.uid);
    writeSecretKey(anchor, target, user.uid);
  });
  handOver(config, { anchor, path: path.join(target, SECRET_CONF) }, user);
  return source;
}

/**
 * A fresh cluster. The project's is made beside the old one first and swapped in only
 * when complete, so a failure (a full disk) leaves the cluster being replaced as it
 * was, still running. A private cluster has nothing to replace: its data goes straight
 * into RAM when there is room.
 */
async function freshCluster(config: ClusterSetup, layout: ClusterLayout, user: OsUser, conf: FreshConf, log: Logger, options: FreshOptions): Promise<DataSource> {
  if (options.ramData) {
    // A private cluster: nothing of it is kept.
    await stopServer(layout.dataDir);
    await wipeCluster(config, layout, false);
    // A spare renamed in costs nothing, where a copy into RAM costs the template's size;
    // a spare in RAM (ram-spares.ts) is renamed into a RAM folder.
    const { spareDir } = options;
    if (spareDir && sameFileSystem(spareDir, layout.workingDir) && hasSpare(spareDir, templateFor(config, user, layout.database).key)) {
      return makeFreshData(config, layout, layout.dataDir, user, conf, log, spareDir);
    }
    const target = linkRamDataDir(layout.dataDir, user, isRoot(config)) ?? layout.dataDir;
    return makeFreshData(config, layout, target, user, conf, log, spareDir);
  }
  const staging = path.join(layout.workingDir, scratchName('fresh'));
  try {
    const source = await makeFreshData(config, layout, staging, user, conf, log, options.spareDir);
    const loss = await stopForWipe(config, layout, log);
    await wipeCluster(config, layout, loss.keep);
    fs.renameSync(staging, layout.dataDir);
    return source;
  } catch (error) {
    removeBelow(layout.workingDir, staging);
    throw error;
  }
}

/**
 * Where the server's stdout/stderr go: server.log. With NO_TTY it is always the one in
 * the working dir (it lives and goes with the cluster), and we say where it is.
 */
function serverOutputFile(config: Pick<Config, 'noTty'>, layout: ClusterLayout, log: Logger): string {
  if (!config.noTty) return layout.serverLog;
  const file = path.join(layout.workingDir, 'server.log');
  log.warn(`NO_TTY=1: server output goes to ${file}`);
  return file;
}

/** The database of kept data: created when missing, unless `create` is false (a restored copy read as the backup's must hold it). */
async function ensureDatabase(url: string, database: string, create: boolean): Promise<void> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return;
  } catch (error) {
    if (!/does not exist/.test((error as Error).message)) throw error;
    if (!create) throw new MissingInputError(`the cluster holds no database ${database}`);
  }
  await withClient(url, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      const version = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num);
      // FILE_COPY is much faster than WAL_LOG with fsync off, and exists from PostgreSQL 15.
      const strategy = version >= 150000 ? ' STRATEGY FILE_COPY' : '';
      await client.query(`CREATE DATABASE ${quoteIdent(database)}${strategy}`);
    }
  }, { database: 'postgres' });
  await withClient(url, (client) => client.query('SELECT 1'));
}

/**
 * Reusing a running server whose settings are unchanged leaves it running, with its
 * sessions (SPEC §4, turn 4). Unchanged: the port and socket folder its postmaster.pid
 * names, and no setting in its configuration files (postgresql.conf with the managed
 * block rewritten, postgresql.auto.conf from ALTER SYSTEM) that only a restart applies —
 * PostgreSQL's own view `pg_file_settings` tells. Settings a reload applies are reloaded.
 * Returns its pid; undefined when it is not running, or must restart (then it says why,
 * in one line).
 */
async function keptRunning(layout: ClusterLayout, user: OsUser, block: string, log: Logger): Promise<number | undefined> {
  const server = runningServer(layout.dataDir);
  if (!server) return undefined;
  const changes: string[] = [];
  if (server.port !== layout.port) changes.push(`port ${server.port ?? '?'} → ${layout.port}`);
  if (server.sockDir !== layout.sockDir) changes.push(`socket folder ${server.sockDir ?? '?'} → ${layout.sockDir}`);
  if (changes.length === 0) {
    explainFsFaults(`cannot configure the cluster in ${layout.workingDir}`, () => {
      const conf = serverPath(layout, path.join(layout.dataDir, 'postgresql.conf'));
      writeManagedBlock(conf.anchor, conf.path, block, user.uid);
    });
    try {
      const pending = await withClient(clusterUrl(user.name, layout), async (client) => {
        const rows = await client.query<{ name: string }>('SELECT DISTINCT name FROM pg_file_settings WHERE error IS NOT NULL ORDER BY 1');
        if (rows.rows.length === 0) await client.query('SELECT pg_reload_conf()');
        return rows.rows.map((row) => row.name);
      }, { database: 'postgres' });
      changes.push(...pending);
    } catch (error) {
      changes.push(`it does not answer: ${(error as Error).message}`);
    }
  }
  if (changes.length === 0) return server.pid;
  log.warn(`the running server's settings changed (${changes.join(', ')}): restarting it, which ends its sessions`);
  return undefined;
}

/**
 * postgres-init (SPEC §4): stop a leftover server, keep (reuse) or recreate the
 * cluster, force port and socket dir, start, create the database, return how to reach it.
 */
export async function initCluster(config: ClusterSetup, log: Logger, options: InitOptions): Promise<ClusterConnection> {
  const settings = options.settings ?? projectSettings(config);
  const layout = clusterLayout(config, options.workingDir, settings);
  const user = serverUser(config);
  // Refuses, before anything changes, a socket or log folder postgresql.conf cannot hold.
  const block = managedBlock(config, layout, settings.logPath !== undefined);
  void loadDriver();
  prepareWorkingDir(config, layout.workingDir, user);
  await checkReachable(config, layout.workingDir, user);
  const spare = options.spare ?? true;
  if (spare) removeAbandonedTrash(config, layout.workingDir);
  if (layout.sockDirRelocated) {
    const planned = path.join(layout.workingDir, 'sock');
    log.warn(`socket path ${socketFile(planned, layout.port)} ${socketDirProblem(planned, layout.port)}; using ${layout.sockDir} instead`);
  }
  const reuse = options.reuse && fs.existsSync(path.join(layout.dataDir, 'PG_VERSION'));
  // Bad input (PG_CONF_FILE, preload libraries) fails here, before anything is stopped.
  const conf = reuse ? undefined : await freshConf(config, layout, log);
  const spareDir = spare ? layout.workingDir : options.spareFrom;
  let source: DataSource | undefined;
  let kept: number | undefined;
  if (conf) source = await log.step('create cluster', () => freshCluster(config, layout, user, conf, log, { spareDir, ramData: options.ramData ?? false }));
  else if ((kept = await keptRunning(layout, user, block, log)) === undefined) await stopServer(layout.dataDir);
  explainFsFaults(`cannot prepare the cluster in ${layout.workingDir}`, () => {
    makeOwnedDir(config, layout, layout.sockDir, user);
    makeOwnedDir(config, layout, layout.logDir, user);
    if (settings.logPath) makeOwnedDir(config, layout, path.dirname(layout.serverLog), user);
    const conf = serverPath(layout, path.join(layout.dataDir, 'postgresql.conf'));
    writeManagedBlock(conf.anchor, conf.path, block, user.uid);
  });
  const output = serverPath(layout, serverOutputFile(config, layout, log));
  const pid = kept ?? (await log.step('start server', () => startServer(config, layout, { user, output })));
  recordServer(layout.workingDir, pid, layout.database);
  const connection = connectionFor(config, layout, user.name, settings.urlVar);
  try {
    // Fresh data (a spare, the template cache, initdb) holds the database already.
    if (!source) await log.step(`database ${layout.database}`, () => ensureDatabase(connection.url, layout.database, options.createDatabase ?? true));
  } catch (error) {
    // A run that fails never leaves the server it started behind (SPEC §17); one it found
    // running and kept stays as it was.
    if (kept === undefined) await stopServer(layout.dataDir).catch(() => undefined);
    throw error;
  }
  // A throw-away cluster's run refills the spare it took once it is over (withRunDir).
  if (spare) {
    const template = templateFor(config, user, layout.database);
    prepareSpare(config, layout.workingDir, template.key, template.dataDir);
  }
  if (source) options.onDataSource?.(source);
  return connection;
}

/** postgres-cleanup: stop the cluster of the working dir; nothing configured is fine. */
export async function stopCluster(config: LayoutSettings, workingDir?: string): Promise<'stopped' | 'not-running'> {
  const dir = workingDir ?? config.workingDir;
  if (!dir) return 'not-running';
  stopSparePreparations(dir);
  return stopServer(clusterLayout(config, dir).dataDir);
}


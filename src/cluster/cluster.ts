/**
 * The project's cluster (SPEC §4): make or keep it, configure it, start it, create the
 * database, and say how to reach it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  clusterLayout, MARKER_FILE, MAX_SOCKET_PATH, projectSettings, scratchName, socketFile, TRASH_PREFIX,
  type ClusterLayout, type ClusterSettings,
} from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { loadDriver, quoteIdent, withClient } from '../pg/db.js';
import { AmbiguousError, MissingProgramError, UserError } from '../base/errors.js';
import { makeDirs } from '../base/folders.js';
import { explainFsFaults } from '../base/fs-faults.js';
import type { Logger } from '../base/log.js';
import { isProcessAlive } from '../base/pids.js';
import { isRoot, serverUser, userCanReach } from './os-user.js';
import { locatePgProgram } from '../pg/pg-bin.js';
import { removeInBackground, runProgram, type OsUser } from '../base/process.js';
import { generatedSettings, installConf, readUserConf, SECRET_CONF, writeManagedBlock, writeSecretKey } from './server-config.js';
import { liveSockets, startServer, stopServer } from './server-process.js';
import { linkRamDataDir, ramTablespaceDirs, removeRamDir } from './ram-storage.js';
import { prepareSpare, stopSparePreparation } from './spare-cluster.js';
import { createDataDir, templateFor } from './template-cache.js';
import { holdsUserRelations } from './user-data.js';
import { connectionFor, type ClusterConnection } from './cluster-connection.js';

export interface InitOptions {
  /** Keep an existing cluster instead of wiping it (PG_REUSE / --reuse). */
  reuse: boolean;
  /** Another working dir than the configured one (private clusters of check/diff). */
  workingDir?: string;
  /**
   * Keep a spare fresh cluster in the working dir for the next fresh start (default
   * true; throw-away clusters have no next start).
   */
  spare?: boolean;
  /** Put a fresh cluster's data folder in RAM when possible (throw-away clusters). */
  ramData?: boolean;
  /** Log folder and URL variable; default the project's (PG_LOG_PATH, PG_URL_VAR). */
  settings?: ClusterSettings;
}

/** Gives a folder we made to the server account when we are root. */
function handOver(config: Config, target: string, user: OsUser): void {
  if (isRoot(config)) fs.chownSync(target, user.uid, user.gid);
}

function prepareWorkingDir(config: Config, dir: string, user: OsUser): void {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new UserError(`working dir is not a folder: ${dir}`);
  makeDirs(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new UserError(`working dir is not writable: ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  handOver(config, dir, user);
  const marker = path.join(dir, MARKER_FILE);
  if (!fs.existsSync(marker)) {
    explainFsFaults(`cannot prepare ${dir}`, () => fs.writeFileSync(marker, 'This folder was made by db-tool; `database cleanup` removes it.\n'));
  }
}

/** As root, the server account must be able to reach and write the folder. */
async function checkReachable(config: Config, dir: string, user: OsUser): Promise<void> {
  if (!isRoot(config)) return;
  if (!(await userCanReach(config, dir, user, true))) {
    throw new UserError(
      `PG_OS_USER '${user.name}' cannot reach ${dir}: a parent folder is not traversable by that user ` +
        '(e.g. /root is mode 0700); put the project or PG_WORKING_DIR elsewhere, or set PG_OS_USER',
    );
  }
}

function makeOwnedDir(config: Config, dir: string, user: OsUser): void {
  makeDirs(dir, { mode: 0o700 });
  handOver(config, dir, user);
}

/** The usual places of `shared_preload_libraries` next to the server's bin/ folder. */
function nearbyLibDirs(binDir: string): string[] {
  return [path.resolve(binDir, '..', 'lib'), path.resolve(binDir, '..', 'lib', 'postgresql')].filter((dir) => fs.existsSync(dir));
}

/** Each library folder once, however it was spelled. */
function uniqueDirs(dirs: readonly string[]): string[] {
  const seen = new Set<string>();
  return dirs.filter((dir) => {
    let real = path.resolve(dir);
    try {
      real = fs.realpathSync(real);
    } catch {
      // keep the resolved spelling
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** `pg_config --pkglibdir` of the server build, asked only when the nearby folders fail. */
async function pgConfigLibDir(config: Config, binDir: string): Promise<string[]> {
  const pgConfig = path.join(binDir, 'pg_config');
  if (!fs.existsSync(pgConfig)) return [];
  const result = await runProgram(pgConfig, ['--pkglibdir'], { env: config.env, timeoutMs: 5_000 });
  return result.code === 0 ? [result.stdout.trim()] : [];
}

function libraryIn(dirs: readonly string[], lib: string): boolean {
  const file = lib.replace(/^\$libdir\//, '');
  if (path.isAbsolute(file)) return fs.existsSync(file) || fs.existsSync(`${file}.so`);
  return dirs.some((dir) => fs.existsSync(path.join(dir, `${file}.so`)) || fs.existsSync(path.join(dir, file)));
}

/**
 * shared_preload_libraries for a fresh cluster. The default pg_cron is dropped with a
 * warning when this PostgreSQL lacks it; a library the user asked for must exist.
 */
export async function resolvePreloadLibraries(config: Config, log: Logger): Promise<string[]> {
  const wanted = config.preloadLibraries.split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return [];
  const postgres = locatePgProgram(config, 'postgres');
  const binDir = postgres ? path.dirname(fs.realpathSync(postgres)) : undefined;
  let dirs = binDir ? nearbyLibDirs(binDir) : [];
  let missing = wanted.filter((lib) => !libraryIn(dirs, lib));
  if (missing.length > 0 && binDir) {
    dirs = uniqueDirs([...dirs, ...(await pgConfigLibDir(config, binDir))]);
    missing = wanted.filter((lib) => !libraryIn(dirs, lib));
  }
  if (missing.length === 0) return wanted;
  if (config.preloadLibrariesExplicit) {
    throw new MissingProgramError(
      `shared_preload_libraries: ${missing.join(', ')} not installed for this PostgreSQL (looked in ${dirs.join(', ') || 'no library folder'})`,
    );
  }
  log.warn(`${missing.join(', ')} is not installed for this PostgreSQL; starting without it (install postgresql-<major>-cron, or set PG_SHARED_PRELOAD_LIBRARIES='')`);
  return wanted.filter((lib) => !missing.includes(lib));
}

/**
 * Moves the old data aside (renaming is instant; a detached rm deletes it while we go
 * on) and clears the socket folder. A socket another live server listens on is never
 * deleted.
 */
async function wipeCluster(config: Config, layout: ClusterLayout): Promise<void> {
  const busy = await liveSockets(layout.sockDir);
  if (busy.length > 0) {
    throw new AmbiguousError(`socket ${busy.join(', ')} is in use by another live server; not deleting it (stop that server, or use another PG_WORKING_DIR or PG_PORT)`);
  }
  if (fs.existsSync(layout.dataDir)) {
    // RAM tablespaces of the old cluster (a `database test` run's) go with it.
    for (const dir of ramTablespaceDirs(layout.dataDir)) removeRamDir(dir);
    const trash = path.join(layout.workingDir, scratchName('old'));
    fs.renameSync(layout.dataDir, trash);
    removeInBackground(config, trash);
  }
  fs.rmSync(layout.sockDir, { recursive: true, force: true });
}

/** A trash folder nobody has touched for this long is not being deleted any more. */
const ABANDONED_TRASH_MS = 60_000;

/**
 * Deletes `.trash-*` folders left when a run (or its detached rm) was killed: their
 * maker is gone and nothing has changed in them for a minute.
 */
function removeAbandonedTrash(config: Config, workingDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(workingDir).filter((entry) => entry.startsWith(TRASH_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/-([0-9]+)-[0-9a-z]+$/.exec(entry)?.[1]);
    const folder = path.join(workingDir, entry);
    const stat = fs.statSync(folder, { throwIfNoEntry: false });
    if (stat && !isProcessAlive(pid) && Date.now() - stat.mtimeMs > ABANDONED_TRASH_MS) removeInBackground(config, folder);
  }
}

type FreshConf = Parameters<typeof installConf>[1];

/** The configuration of a fresh cluster, settled before anything is stopped or wiped. */
async function freshConf(config: Config, layout: ClusterLayout, log: Logger): Promise<FreshConf> {
  return config.confFile
    ? { replace: readUserConf(config.confFile) }
    : { append: generatedSettings(config, layout, await resolvePreloadLibraries(config, log)) };
}

interface FreshOptions {
  spare: boolean;
  ramData: boolean;
}

/** Fills `target` (which must not exist) with a fresh, configured cluster. */
async function makeFreshData(config: Config, layout: ClusterLayout, target: string, user: OsUser, conf: FreshConf, log: Logger, spare: boolean): Promise<void> {
  const source = await createDataDir(config, target, user, layout.database, log, spare ? layout.workingDir : undefined);
  log.debug(`data folder ${layout.dataDir} made by ${source}`);
  explainFsFaults(`cannot configure the cluster in ${layout.workingDir}`, () => {
    installConf(target, conf);
    writeSecretKey(target);
  });
  handOver(config, path.join(target, SECRET_CONF), user);
}

/** Stops the old server; says so when the wipe that follows drops user tables. */
async function stopForWipe(layout: ClusterLayout, log: Logger): Promise<void> {
  await stopServer(layout.dataDir);
  // Checked once stopped: the shutdown checkpoint has unlinked the files of dropped tables.
  if (holdsUserRelations(layout.dataDir)) {
    log.warn(`a fresh start wipes the tables in ${layout.dataDir}; set PG_REUSE=1 (or pass --reuse) to keep them`);
  }
}

/**
 * A fresh cluster. The project's is made beside the old one first and swapped in only
 * when complete, so a failure (a full disk) leaves the cluster being replaced as it
 * was, still running. A private cluster has nothing to replace: its data goes straight
 * into RAM when there is room.
 */
async function freshCluster(config: Config, layout: ClusterLayout, user: OsUser, conf: FreshConf, log: Logger, options: FreshOptions): Promise<void> {
  if (options.ramData) {
    await stopForWipe(layout, log);
    await wipeCluster(config, layout);
    const target = linkRamDataDir(layout.dataDir, user, isRoot(config)) ?? layout.dataDir;
    await makeFreshData(config, layout, target, user, conf, log, options.spare);
    return;
  }
  const staging = path.join(layout.workingDir, scratchName('fresh'));
  try {
    await makeFreshData(config, layout, staging, user, conf, log, options.spare);
    await stopForWipe(layout, log);
    await wipeCluster(config, layout);
    fs.renameSync(staging, layout.dataDir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Where the server's stdout/stderr go: server.log. With NO_TTY it is always the one in
 * the working dir (it lives and goes with the cluster), and we say where it is.
 */
function serverOutputFile(config: Config, layout: ClusterLayout, log: Logger): string {
  if (!config.noTty) return layout.serverLog;
  const file = path.join(layout.workingDir, 'server.log');
  log.warn(`NO_TTY=1: server output goes to ${file}`);
  return file;
}

/** The database usually exists already (it is part of the template); create it if not. */
async function ensureDatabase(url: string, database: string): Promise<void> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return;
  } catch (error) {
    if (!/does not exist/.test((error as Error).message)) throw error;
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
 * postgres-init (SPEC §4): stop a leftover server, keep (reuse) or recreate the
 * cluster, force port and socket dir, start, create the database, return how to reach it.
 */
export async function initCluster(config: Config, log: Logger, options: InitOptions): Promise<ClusterConnection> {
  const settings = options.settings ?? projectSettings(config);
  const layout = clusterLayout(config, options.workingDir, settings);
  const user = serverUser(config);
  void loadDriver();
  prepareWorkingDir(config, layout.workingDir, user);
  await checkReachable(config, layout.workingDir, user);
  const spare = options.spare ?? true;
  if (spare) removeAbandonedTrash(config, layout.workingDir);
  if (layout.sockDirRelocated) {
    log.warn(`socket path ${socketFile(path.join(layout.workingDir, 'sock'), layout.port)} would exceed the OS limit of ${MAX_SOCKET_PATH} bytes; using ${layout.sockDir} instead`);
  }
  const reuse = options.reuse && fs.existsSync(path.join(layout.dataDir, 'PG_VERSION'));
  // Bad input (PG_CONF_FILE, preload libraries) fails here, before anything is stopped.
  const conf = reuse ? undefined : await freshConf(config, layout, log);
  // A fast shutdown even for data about to be wiped: an immediate one would leave the
  // server's dynamic shared memory behind in /dev/shm.
  if (conf) await log.step('create cluster', () => freshCluster(config, layout, user, conf, log, { spare, ramData: options.ramData ?? false }));
  else await stopServer(layout.dataDir);
  explainFsFaults(`cannot prepare the cluster in ${layout.workingDir}`, () => {
    makeOwnedDir(config, layout.sockDir, user);
    makeOwnedDir(config, layout.logDir, user);
    if (settings.logPath) makeOwnedDir(config, path.dirname(layout.serverLog), user);
    writeManagedBlock(config, layout, settings.logPath !== undefined);
  });
  const outputFile = serverOutputFile(config, layout, log);
  await log.step('start server', () => startServer(config, layout, { user, outputFile }));
  // The server runs from here: a start that fails after this stops it again, so that a
  // command exiting non-zero leaves no server behind that nobody can use (SPEC §17).
  try {
    const connection = connectionFor(config, layout, user.name, settings.urlVar);
    await log.step(`database ${layout.database}`, () => ensureDatabase(connection.url, layout.database));
    if (spare) {
      const template = templateFor(config, user, layout.database);
      prepareSpare(config, layout.workingDir, template.key, template.dataDir);
    }
    return connection;
  } catch (error) {
    await stopServer(layout.dataDir).catch(() => undefined);
    throw error;
  }
}

/** postgres-cleanup: stop the cluster of the working dir; nothing configured is fine. */
export async function stopCluster(config: Config, workingDir?: string): Promise<'stopped' | 'not-running'> {
  const dir = workingDir ?? config.workingDir;
  if (!dir) return 'not-running';
  stopSparePreparation(dir);
  return stopServer(clusterLayout(config, dir).dataDir);
}


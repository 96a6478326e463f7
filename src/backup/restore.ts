/**
 * `database restore [--archive] [PATH]` (SPEC §5): replaces the project cluster's data
 * with a backup and starts it. The backup is unpacked next to the data folder first, and
 * what a backup of another machine (production) needs to start here is settled in it
 * (startHere); only then is the server stopped, the old data moved aside and the new
 * data moved in.
 * If anything fails (or the user presses Ctrl-C), the previous data goes back in place
 * and, if the cluster was running, it is started again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, scratchName, type ClusterLayout } from '../cluster/cluster-layout.js';
import { initCluster, type ClusterSetup } from '../cluster/cluster.js';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import { assertBackupDir, defaultBackupDir, extractBackup, mayLackRole, readBackupInfo, unpackBackupArchive, type BackupInfo } from './backup-files.js';
import { MissingInputError } from '../base/errors.js';
import { interruptedBy, throwIfInterrupted, withCleanup } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { clearDeadLeftovers } from '../cluster/leftovers.js';
import { overrideLines, readRestoredCopy } from '../cluster/restored-copy.js';
import { keepLogsInDataDir, prepareCopyFiles } from '../cluster/restored-copy-files.js';
import { ensureToolRole } from '../cluster/restored-copy-role.js';
import { serverUser } from '../cluster/os-user.js';
import { removeInBackground, type OsUser } from '../base/process.js';
import { removeBelow } from '../base/safe-remove.js';
import { writeBelow } from '../base/safe-files.js';
import { runningServer, stopServer } from '../cluster/server-process.js';
import { withWorkingDirLock } from '../cluster/working-dir-lock.js';

export interface RestoreOptions {
  /** PATH is a `.tar.gz` of a backup folder. */
  archive?: boolean;
  /** Backup folder (or archive with `archive`); default $LOCAL_DIR/focus/postgresql-backup. */
  path?: string;
}

export interface RestoreResult {
  backup: string;
  dataDir: string;
  connection: ClusterConnection;
  /** True when the cluster was running before the restore. */
  wasRunning: boolean;
}

function scratchDir(workingDir: string, tag: string): string {
  // The trash prefix marks it as ours: `database cleanup` accepts it, and a leftover
  // after a crash is safe to delete.
  return path.join(workingDir, scratchName(tag));
}

/** What to restore from, checked once before anything changes: a backup folder or an archive of one. */
type RestoreSource = { kind: 'folder'; path: string } | { kind: 'archive'; path: string };

function restoreSource(config: Pick<Config, 'localDir' | 'cwd'>, options: RestoreOptions): RestoreSource {
  if (!options.archive) {
    const dir = options.path ? path.resolve(config.cwd, options.path) : defaultBackupDir(config);
    assertBackupDir(dir);
    return { kind: 'folder', path: dir };
  }
  if (!options.path) throw new MissingInputError('restore --archive needs the PATH of a .tar.gz of a backup folder');
  const archive = path.resolve(config.cwd, options.path);
  if (!fs.statSync(archive, { throwIfNoEntry: false })?.isFile()) {
    throw new MissingInputError(`no backup archive found: ${archive} does not exist (make a backup with \`database backup\`, then archive its folder)`);
  }
  return { kind: 'archive', path: archive };
}

/** The backup folder, unpacking an archive into `scratch` first. */
async function locateBackup(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, source: RestoreSource, scratch: string, log: Logger): Promise<string> {
  if (source.kind === 'folder') return source.path;
  return log.step(`unpack ${source.path}`, () => unpackBackupArchive(config, source.path, scratch));
}

export async function restoreBackup(config: ClusterSetup & Pick<Config, 'localDir'>, log: Logger, options: RestoreOptions = {}): Promise<RestoreResult> {
  const workingDir = requireWorkingDir(config);
  const source = restoreSource(config, options);
  // One run at a time per working dir (the lock makes a missing one): a postgres-init
  // or deploy in another terminal waits for us.
  return withWorkingDirLock(workingDir, { command: 'database restore', log }, () => restoreInto(config, log, source));
}

/**
 * Makes the restored copy of (possibly) another machine's cluster start here and stay a
 * dev copy (restored-copy.ts). Its configuration files are made usable by the tool (a
 * postgresql.conf and a pg_hba.conf that let the tool in; the port, socket and log
 * folders the tool's own). Production's settings that cannot work here, or must not
 * (TCP, WAL archiving into the original's archive), are overridden last in
 * postgresql.auto.conf, which the server reads last, so even ALTER SYSTEM gives way.
 * The role the tool connects as is made when the copy may lack it. One warning line per
 * change; everything else stays as production had it. `final`: where the copy will
 * start, and its socket folder.
 */
async function startHere(config: ClusterSetup, workingDir: string, dataDir: string, final: Pick<ClusterLayout, 'dataDir' | 'sockDir'>, user: OsUser, log: Logger, info: BackupInfo | undefined): Promise<void> {
  const files = prepareCopyFiles(config, workingDir, dataDir, user);
  const copy = await readRestoredCopy(config, workingDir, dataDir, user, { explainPrivate: true, socketDir: final.sockDir, alsoRead: ['log_directory'] });
  const logs = keepLogsInDataDir(workingDir, dataDir, final.dataDir, user, copy.values.log_directory);
  const block = ['', '# db-tool restore: a copy of another cluster, made to start here (see `database restore`)', ...overrideLines(copy.overrides), ''].join('\n');
  writeBelow(workingDir, path.join(dataDir, 'postgresql.auto.conf'), block, 'append', { owners: [user.uid] });
  const role = mayLackRole(info, user.name) ? await ensureToolRole(config, dataDir, user) : undefined;
  for (const because of [...files, ...copy.replaced, logs, ...copy.overrides.map((override) => override.because), role]) {
    if (because) log.warn(because(SUBJECT));
  }
}

/** How the warnings name the cluster being restored. */
const SUBJECT = 'the restored cluster';

async function restoreInto(config: ClusterSetup, log: Logger, source: RestoreSource): Promise<RestoreResult> {
  const workingDir = requireWorkingDir(config);
  const layout = clusterLayout(config, workingDir);
  const user = serverUser(config);
  // What a killed restore left (unpacked data, the data it moved aside) goes first; data
  // moved aside comes back when nothing took its place.
  await clearDeadLeftovers(config, { workingDirs: [workingDir], only: ['scratch folder'] });
  const unpacked = scratchDir(workingDir, 'restore-archive');
  const incoming = scratchDir(workingDir, 'restore-data');
  const previous = scratchDir(workingDir, 'restore-previous');
  const wasRunning = runningServer(layout.dataDir) !== undefined;
  let state: 'preparing' | 'swapped' | 'done' = 'preparing';
  let settled = false;

  /**
   * Puts the previous data back (and restarts it if it ran); a no-op once done. On a
   * signal the cleanups run at once, while a server may still be starting on the new
   * data: then we wait for the second round, after the work has settled.
   */
  const rollback = async (): Promise<void> => {
    if (!settled && interruptedBy()) return;
    if (state === 'swapped') {
      await stopServer(layout.dataDir).catch(() => undefined);
      if (fs.existsSync(previous)) {
        if (fs.existsSync(layout.dataDir)) fs.renameSync(layout.dataDir, incoming);
        fs.renameSync(previous, layout.dataDir);
      }
      state = 'preparing';
      if (wasRunning) {
        await initCluster(config, log, { reuse: true, workingDir }).catch((error: Error) => log.warn(`the previous data is back in ${layout.dataDir} but did not start: ${error.message}`));
      }
      log.warn(`restore failed; the previous data is back in ${layout.dataDir}`);
    }
    // In the working dir, which the server account can write: never through a link.
    removeBelow(workingDir, unpacked);
    removeBelow(workingDir, incoming);
  };

  return withCleanup(rollback, async () => {
    try {
      const backup = await locateBackup(config, source, unpacked, log);
      await log.step(`unpack ${backup}`, () => extractBackup(config, backup, incoming, user));
      await log.step('settings for this machine', () => startHere(config, workingDir, incoming, layout, user, log, readBackupInfo(backup)));
      removeBelow(workingDir, unpacked);
      throwIfInterrupted();
      if (wasRunning) await log.step('stop the cluster', () => stopServer(layout.dataDir));
      state = 'swapped';
      if (fs.existsSync(layout.dataDir)) fs.renameSync(layout.dataDir, previous);
      fs.renameSync(incoming, layout.dataDir);
      const connection = await initCluster(config, log, { reuse: true, workingDir });
      state = 'done';
      if (fs.existsSync(previous)) removeInBackground(config, previous);
      return { backup: source.path, dataDir: layout.dataDir, connection, wasRunning };
    } finally {
      settled = true;
    }
  });
}

/**
 * `database backup` (SPEC §5): pg_basebackup of the running project cluster — tar
 * format, gzip, streamed WAL, fast checkpoint — into $LOCAL_DIR/focus/postgresql-backup/.
 * The backup is written into a sibling folder first; the previous backup is replaced
 * only once the new one is complete, so a failure (or Ctrl-C) leaves it as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import type { Config } from '../base/config.js';
import { clearDeadLeftovers } from '../cluster/leftovers.js';
import { withClient } from '../pg/db.js';
import { BACKUP_INFO, BASE_ARCHIVE, WAL_ARCHIVE, type BackupInfo } from './backup-files.js';
import { prepareRestoredSpare } from './restored-spare.js';
import { ProgramFailedError } from '../base/errors.js';
import { throwIfInterrupted, withCleanup } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { versionBoundProgram } from '../pg/client-version.js';
import { makeDirs } from '../base/folders.js';
import { explainFsFaults } from '../base/fs-faults.js';
import { faultLogDirs, programFailure } from '../base/program-failure.js';
import { runProgram } from '../base/process.js';
import { uniqueSuffix } from '../base/unique-name.js';

export interface BackupResult {
  /** The backup folder. */
  path: string;
  /** Size of the archives in bytes. */
  bytes: number;
  /** True when an earlier backup was replaced. */
  replaced: boolean;
  info: BackupInfo;
}

function uniqueSibling(dir: string, tag: string): string {
  return `${dir}.${tag}-${uniqueSuffix()}`;
}

function archiveSize(dir: string, name: string): number {
  return fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
}

/** Swaps the finished backup in; the old one goes only after the new one is in place. */
function swapIn(staging: string, target: string): boolean {
  const replaced = fs.existsSync(target);
  const old = uniqueSibling(target, 'old');
  if (replaced) fs.renameSync(target, old);
  try {
    fs.renameSync(staging, target);
  } catch (error) {
    if (replaced) fs.renameSync(old, target);
    throw error;
  }
  if (replaced) fs.rmSync(old, { recursive: true, force: true });
  return replaced;
}

/** Backs the running `cluster` up into `target`, replacing a previous backup only once the new one is complete. */
export async function backupCluster(config: Pick<Config, 'env' | 'path' | 'pgBinDir' | 'cacheDir' | 'tmpDir' | 'cwd' | 'workingDir' | 'port' | 'database' | 'euid' | 'logPath' | 'pgUrlVar' | 'osUser'>, log: Logger, cluster: ClusterConnection, target: string, generator: string): Promise<BackupResult> {
  makeDirs(path.dirname(target));
  // What a killed backup left (its partial copy, a pg_basebackup still streaming into
  // it, the previous backup moved aside) goes first; the previous backup comes back.
  await clearDeadLeftovers(config, { focusDirs: [path.dirname(target)], only: ['partial backup', 'replaced backup'] });
  const staging = uniqueSibling(target, 'partial');
  const { serverVersion, databases } = await withClient(cluster.url, async (client) => {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const rows = await client.query<{ datname: string; oid: number }>('SELECT datname, oid::int AS oid FROM pg_database ORDER BY oid');
    return {
      serverVersion: version.rows[0]?.server_version ?? '',
      databases: Object.fromEntries(rows.rows.map((row) => [row.datname, row.oid])),
    };
  });
  const pgBasebackup = await versionBoundProgram(config, 'pg_basebackup', serverVersion);
  return withCleanup(
    async () => fs.rmSync(staging, { recursive: true, force: true }),
    async () => {
      const args = [
        '-D', staging, '-Ft', '-z', '-X', 'stream', '-c', 'fast', '--label', 'db-tool backup',
        '-h', cluster.layout.sockDir, '-p', String(cluster.layout.port), '-U', cluster.user, '--no-password',
      ];
      const result = await log.step(`pg_basebackup of ${cluster.layout.dataDir}`, () =>
        runProgram(pgBasebackup, args, { env: config.env }),
      );
      if (result.code !== 0) {
        throw programFailure(result, { what: 'pg_basebackup', folder: path.dirname(target), logDirs: faultLogDirs(config), suffix: '; the previous backup is kept' });
      }
      if (archiveSize(staging, BASE_ARCHIVE) === 0 || archiveSize(staging, WAL_ARCHIVE) === 0) {
        throw new ProgramFailedError(`pg_basebackup wrote no ${BASE_ARCHIVE}/${WAL_ARCHIVE} into ${staging}; the previous backup is kept`);
      }
      const info: BackupInfo = {
        createdAt: new Date().toISOString(),
        sourceDataDir: cluster.layout.dataDir,
        database: cluster.layout.database,
        serverVersion,
        generator,
        databases,
        role: cluster.user,
      };
      explainFsFaults(`cannot write the backup into ${path.dirname(target)} (the previous backup is kept)`, () =>
        fs.writeFileSync(path.join(staging, BACKUP_INFO), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 }),
      );
      const bytes = archiveSize(staging, BASE_ARCHIVE) + archiveSize(staging, WAL_ARCHIVE);
      throwIfInterrupted();
      const replaced = swapIn(staging, target);
      // Diffs of the old backup had a restored copy kept ready: the new one gets its own.
      prepareRestoredSpare(config, target, cluster.layout.database, path.dirname(target), { onlyReplacing: true });
      return { path: target, bytes, replaced, info };
    },
  );
}

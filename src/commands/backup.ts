/** `database backup` (SPEC §5): the running project cluster into the default backup folder. */
import type { Config } from '../base/config.js';
import { MissingInputError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { backupCluster, type BackupResult } from '../backup/backup.js';
import { defaultBackupDir } from '../backup/backup-files.js';
import { runningCluster } from '../cluster/cluster-connection.js';

export async function backupCommand(config: Config, log: Logger, generator: string): Promise<BackupResult> {
  const cluster = runningCluster(config);
  if (!cluster) {
    throw new MissingInputError(`no running cluster to back up in ${config.workingDir ?? 'PG_WORKING_DIR'} (start it with \`database init --reuse\`, which keeps its data)`);
  }
  return backupCluster(config, log, cluster, defaultBackupDir(config), generator);
}

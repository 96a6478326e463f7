/** `database restore [--archive] [PATH]` (SPEC §5), `database restore --previous` (SPEC §17). */
import type { Config } from '../base/config.js';
import { restorePreviousCluster, type PreviousRestoreResult } from '../cluster/previous-cluster.js';
import type { Logger } from '../base/log.js';
import { restoreBackup, type RestoreOptions, type RestoreResult } from '../backup/restore.js';

/** `database restore --previous`: the cluster the last wipe replaced, swapped back in. */
export function restorePreviousCommand(config: Config, log: Logger): Promise<PreviousRestoreResult> {
  return restorePreviousCluster(config, log);
}

export function restoreCommand(config: Config, log: Logger, options: RestoreOptions = {}): Promise<RestoreResult> {
  return restoreBackup(config, log, options);
}

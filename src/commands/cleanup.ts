/** `database cleanup`: the cluster stopped and PG_WORKING_DIR removed, when it holds only what the tool made. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { removeWorkingDir, type WorkingDirRemoval } from '../cluster/working-dir-removal.js';

export type CleanupResult = WorkingDirRemoval;

export function cleanupCommand(config: Config, log: Pick<Logger, 'info'>): Promise<CleanupResult> {
  return removeWorkingDir(config, log);
}

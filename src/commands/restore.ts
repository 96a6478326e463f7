/** `database restore [--archive] [PATH]` (SPEC §5). */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { restoreBackup, type RestoreOptions, type RestoreResult } from '../backup/restore.js';

export function restoreCommand(config: Config, log: Logger, options: RestoreOptions = {}): Promise<RestoreResult> {
  return restoreBackup(config, log, options);
}

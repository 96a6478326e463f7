/** `database pull_staging` (SPEC §9). */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { pullStaging, type PullStagingResult } from '../staging/pull-staging.js';

export function pullStagingCommand(config: Config, log: Logger, generator: string): Promise<PullStagingResult> {
  return pullStaging(config, log, generator);
}

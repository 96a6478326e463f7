/** `database deploy` (SPEC §5): the project's cluster, built from the sources. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { deployProject, type DeployOptions, type DeployResult } from '../deploy/deploy.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';

/** Deploys; the sources stand for every migration on disk, recorded as the baseline. */
export function deployCommand(config: Config, log: Logger, options: Omit<DeployOptions, 'baseline'> = {}): Promise<DeployResult> {
  return deployProject(config, log, { ...options, baseline: options.reuse ? [] : baselineFromDisk(config.migrationDir, log) });
}

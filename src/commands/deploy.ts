/** `database deploy` (SPEC §5): the project's cluster, built from the sources. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { deployProject, type DeployOptions, type DeployResult } from '../build/deploy.js';

export function deployCommand(config: Config, log: Logger, options: DeployOptions = {}): Promise<DeployResult> {
  return deployProject(config, log, options);
}

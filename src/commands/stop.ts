/** `postgres-cleanup` (SPEC §4): stop the project's cluster; removes nothing. */
import type { Config } from '../base/config.js';
import { stopCluster } from '../cluster/cluster.js';

export function stopCommand(config: Config): Promise<'stopped' | 'not-running'> {
  return stopCluster(config);
}

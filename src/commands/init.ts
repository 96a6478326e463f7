/** `postgres-init` / `database init` (SPEC §4): the project's cluster started (src/cluster/project-cluster.ts). */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { startProjectCluster, type StartProjectOptions } from '../cluster/project-cluster.js';

export function initCommand(config: Config, log: Logger, options: StartProjectOptions = {}): Promise<ClusterConnection> {
  return startProjectCluster(config, log, options);
}

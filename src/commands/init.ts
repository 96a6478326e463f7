import { initCluster } from '../cluster/cluster.js';
import { freshDatabaseKeepingBranches } from '../cluster/branch-databases.js';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { withWorkingDirLock } from '../cluster/working-dir-lock.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import type { Logger } from '../base/log.js';

export interface InitCommandOptions {
  reuse?: boolean;
  /** Names the run in another run's "waiting for …" line. */
  command?: string;
}

/**
 * `postgres-init` / `database init`: start the project's cluster, one run at a time per
 * working dir (a second one waits for the first, then starts the cluster again).
 */
export async function initCommand(config: Config, log: Logger, options: InitCommandOptions = {}): Promise<ClusterConnection> {
  const workingDir = requireWorkingDir(config);
  const reuse = options.reuse ?? config.reuse;
  return withWorkingDirLock(workingDir, { command: options.command ?? 'postgres-init', log }, async () =>
    // Other git branches' databases are kept: a fresh start then makes PG_DATABASE alone anew.
    (reuse ? undefined : await freshDatabaseKeepingBranches(config, log)) ?? initCluster(config, log, { reuse, workingDir }),
  );
}

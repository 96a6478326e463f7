/**
 * `postgres-init` / `database init`: start the project's cluster, one run at a time per
 * working dir (a second one waits for the first, then starts the cluster again).
 */
import { requireWorkingDir, type Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { freshDatabaseKeepingBranches } from './branch-databases.js';
import type { ClusterConnection } from './cluster-connection.js';
import { initCluster, type ClusterSetup } from './cluster.js';
import { withWorkingDirLock } from './working-dir-lock.js';

export interface StartProjectOptions {
  /** Keep the cluster's data; default PG_REUSE. */
  reuse?: boolean;
  /** Names the run in another run's "waiting for …" line. */
  command?: string;
}

/** Starts the project's cluster: fresh (keeping other git branches' databases), or reused. */
export async function startProjectCluster(config: ClusterSetup & Pick<Config, 'reuse'>, log: Logger, options: StartProjectOptions = {}): Promise<ClusterConnection> {
  const workingDir = requireWorkingDir(config);
  const reuse = options.reuse ?? config.reuse;
  return withWorkingDirLock(workingDir, { command: options.command ?? 'postgres-init', log }, async () =>
    // Other git branches' databases are kept: a fresh start then makes PG_DATABASE alone anew.
    (reuse ? undefined : await freshDatabaseKeepingBranches(config, log)) ?? initCluster(config, log, { reuse, workingDir }),
  );
}

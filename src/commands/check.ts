/**
 * `database check` (SPEC §5): the deploy flow in a private, throw-away cluster under
 * `$LOCAL_DIR/focus/postgresql-check-<unique>/` — never PG_WORKING_DIR — that is
 * always stopped and removed: on success, failure, SIGINT and SIGTERM. Concurrent
 * checks each get their own folder and socket, so they never collide.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { startPrivateCluster, withRunDir } from '../cluster/private-cluster.js';
import { preflight, runDeploySteps, type DeployFlowOptions } from '../build/deploy.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';

export const CHECK_RUN_PREFIX = 'postgresql-check';

export interface CheckResult {
  /** The run folder (already removed when the result is returned). */
  runDir: string;
  hydrated: boolean;
  patched: boolean;
}

export async function checkCommand(config: Config, log: Logger, options: DeployFlowOptions = {}): Promise<CheckResult> {
  preflight(config, options);
  return withRunDir(config, CHECK_RUN_PREFIX, async (runDir) => {
    log.debug(`check: private cluster in ${runDir}`);
    // A short subfolder name keeps the socket path under the OS limit for longer project paths.
    const connection = await startPrivateCluster(config, log, path.join(runDir, 'pg'));
    const baseline = baselineFromDisk(config.migrationDir, log);
    const built = await runDeploySteps(config, log, connection, { ...options, baseline, createTestData: false });
    return { runDir, hydrated: built.hydrate !== undefined, patched: built.patch !== undefined };
  });
}

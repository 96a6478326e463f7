import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, isToolEntry } from '../cluster/cluster-layout.js';
import { stopCluster } from '../cluster/cluster.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import { AmbiguousError } from '../base/errors.js';
import type { Logger } from '../base/log.js';

export type CleanupResult = 'removed' | 'missing';

/**
 * `database cleanup`: stop the cluster and remove PG_WORKING_DIR, but only when every
 * entry in it is one the tool makes; anything else means the folder is not ours.
 */
export async function cleanupCommand(config: Config, log: Logger): Promise<CleanupResult> {
  const workingDir = requireWorkingDir(config);
  const layout = clusterLayout(config, workingDir);
  const stat = fs.statSync(workingDir, { throwIfNoEntry: false });
  if (!stat) {
    log.info(`${workingDir} does not exist; nothing to clean up`);
    return 'missing';
  }
  if (!stat.isDirectory()) throw new AmbiguousError(`refusing to remove ${workingDir}: it is not a folder`);
  const foreign = fs.readdirSync(workingDir).filter((entry) => !isToolEntry(entry));
  if (foreign.length > 0) {
    throw new AmbiguousError(
      `refusing to remove ${workingDir}: it holds entries db-tool did not make`,
      foreign.map((entry) => `  ${path.join(workingDir, entry)}`).join('\n'),
    );
  }
  await stopCluster(config, workingDir);
  fs.rmSync(workingDir, { recursive: true, force: true });
  if (layout.sockDirRelocated) fs.rmSync(layout.sockDir, { recursive: true, force: true });
  log.info(`removed ${workingDir}`);
  return 'removed';
}

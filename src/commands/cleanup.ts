import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, isToolEntry } from '../cluster/cluster-layout.js';
import { stopCluster } from '../cluster/cluster.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import { AmbiguousError } from '../base/errors.js';

export interface CleanupResult {
  workingDir: string;
  outcome: 'removed' | 'missing';
}

/**
 * `database cleanup`: stop the cluster and remove PG_WORKING_DIR, but only when every
 * entry in it is one the tool makes; anything else means the folder is not ours.
 */
export async function cleanupCommand(config: Config): Promise<CleanupResult> {
  const workingDir = requireWorkingDir(config);
  const layout = clusterLayout(config, workingDir);
  const stat = fs.statSync(workingDir, { throwIfNoEntry: false });
  if (!stat) return { workingDir, outcome: 'missing' };
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
  return { workingDir, outcome: 'removed' };
}

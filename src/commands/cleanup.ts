import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, isToolEntry } from '../cluster/cluster-layout.js';
import { stopCluster } from '../cluster/cluster.js';
import { ramTablespaceDirs, removeRamDir } from '../cluster/ram-storage.js';
import { withWorkingDirLock } from '../cluster/working-dir-lock.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import { AmbiguousError } from '../base/errors.js';
import { faultLogDirs, programFailure } from '../base/program-failure.js';
import { runProgram } from '../base/process.js';
import { removeBelow } from '../base/safe-remove.js';
import type { Logger } from '../base/log.js';

export interface CleanupResult {
  workingDir: string;
  outcome: 'removed' | 'missing';
}

/**
 * `database cleanup`: stop the cluster and remove PG_WORKING_DIR, but only when every
 * entry in it is one the tool makes; anything else means the folder is not ours.
 */
export async function cleanupCommand(config: Config, log: Pick<Logger, 'info'>): Promise<CleanupResult> {
  const workingDir = requireWorkingDir(config);
  if (fs.statSync(workingDir, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new AmbiguousError(`refusing to remove ${workingDir}: it is not a folder`);
  }
  // A postgres-init or deploy in progress finishes first. No folder: nothing to lock.
  return withWorkingDirLock(workingDir, { command: 'database cleanup', log, create: false }, () => cleanUp(config, workingDir));
}

async function cleanUp(config: Config, workingDir: string): Promise<CleanupResult> {
  const layout = clusterLayout(config, workingDir);
  if (!fs.existsSync(workingDir)) return { workingDir, outcome: 'missing' };
  const foreign = fs.readdirSync(workingDir).filter((entry) => !isToolEntry(entry));
  if (foreign.length > 0) {
    throw new AmbiguousError(
      `refusing to remove ${workingDir}: it holds entries db-tool did not make`,
      foreign.map((entry) => `  ${path.join(workingDir, entry)}`).join('\n'),
    );
  }
  await stopCluster(config, workingDir);
  // RAM tablespaces of the cluster (a `database test` run's) go with it.
  for (const dir of ramTablespaceDirs(layout.dataDir)) removeRamDir(dir);
  // Asynchronous: a big cluster takes a while to delete, and a signal must get through.
  // rm(1), not fs.rm: the folder is the server account's, and rm walks it from
  // descriptors, so a folder swapped for a link meanwhile never leads it outside.
  const removed = await runProgram('rm', ['-rf', '--', workingDir], { env: config.env });
  if (removed.code !== 0) throw programFailure(removed, { what: 'rm', folder: workingDir, logDirs: faultLogDirs(config) });
  if (layout.sockDirRelocated) removeBelow(path.dirname(layout.sockDir), layout.sockDir);
  return { workingDir, outcome: 'removed' };
}

/**
 * `database cleanup`: stop the cluster and remove PG_WORKING_DIR, but only when every
 * entry in it is one the tool makes; anything else means the folder is not ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireWorkingDir, type Config } from '../base/config.js';
import { AmbiguousError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { faultLogDirs, programFailure, type FaultLogSettings } from '../base/program-failure.js';
import { runProgram } from '../base/process.js';
import { removeBelow } from '../base/safe-remove.js';
import { clusterLayout, isToolEntry, type LayoutSettings } from './cluster-layout.js';
import { stopCluster } from './cluster.js';
import { ramTablespaceDirs, removeRamDir } from './ram-storage.js';
import { removeThrowAwaySpares } from './ram-spares.js';
import { withWorkingDirLock } from './working-dir-lock.js';

export interface WorkingDirRemoval {
  workingDir: string;
  outcome: 'removed' | 'missing';
}

/** The settings a removal uses: where the cluster is, and where a failed rm's output goes. */
export type RemovalSettings = LayoutSettings & FaultLogSettings & Pick<Config, 'env'>;

/** Stops the project's cluster and removes its working dir, when everything in it is the tool's. */
export async function removeWorkingDir(config: RemovalSettings, log: Pick<Logger, 'info'>): Promise<WorkingDirRemoval> {
  const workingDir = requireWorkingDir(config);
  if (fs.statSync(workingDir, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new AmbiguousError(`refusing to remove ${workingDir}: it is not a folder`);
  }
  // A postgres-init or deploy in progress finishes first. No folder: nothing to lock.
  return withWorkingDirLock(workingDir, { command: 'database cleanup', log, create: false }, () => removeUnlocked(config, workingDir));
}

async function removeUnlocked(config: RemovalSettings, workingDir: string): Promise<WorkingDirRemoval> {
  const layout = clusterLayout(config, workingDir);
  if (!fs.existsSync(workingDir)) {
    removeThrowAwaySpares(workingDir); // left behind by a working dir deleted by hand
    return { workingDir, outcome: 'missing' };
  }
  const foreign = fs.readdirSync(workingDir).filter((entry) => !isToolEntry(entry));
  if (foreign.length > 0) {
    throw new AmbiguousError(
      `refusing to remove ${workingDir}: it holds entries db-tool did not make`,
      foreign.map((entry) => `  ${path.join(workingDir, entry)}`).join('\n'),
    );
  }
  await stopCluster(config, workingDir);
  removeThrowAwaySpares(workingDir);
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

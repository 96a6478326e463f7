/**
 * `database restore --previous` (SPEC §17): swaps the cluster the last wipe replaced
 * (`data.previous`, kept stopped beside `data/`) back in and starts it. A swap, not a
 * copy: two renames, so it takes as long as a start, whatever the size; and the cluster
 * it replaces becomes the previous one in turn, so a second `--previous` undoes the first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireWorkingDir } from '../base/config.js';
import { MissingInputError } from '../base/errors.js';
import { throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { clusterLayout, scratchName, type ClusterLayout } from './cluster-layout.js';
import type { ClusterConnection } from './cluster-connection.js';
import { initCluster, type ClusterSetup } from './cluster.js';
import { swapPreviousDatabase } from './branch-databases.js';
import { runningServer, stopServer } from './server-process.js';
import { withWorkingDirLock } from './working-dir-lock.js';

export interface PreviousRestoreResult {
  connection: ClusterConnection;
  /** Where the cluster that was replaced went (the new `data.previous`), if there was one. */
  replacedTo: string | undefined;
}

/** True when the working dir keeps a previous cluster (a data folder with PG_VERSION). */
export function hasPreviousCluster(layout: Pick<ClusterLayout, 'previousDir'>): boolean {
  return fs.existsSync(path.join(layout.previousDir, 'PG_VERSION'));
}

/** Swaps `data.previous` and `data` (either may be missing, not both). */
function swapData(layout: ClusterLayout): boolean {
  const hadData = fs.existsSync(layout.dataDir);
  const parked = path.join(layout.workingDir, scratchName('swap'));
  if (hadData) fs.renameSync(layout.dataDir, parked);
  try {
    fs.renameSync(layout.previousDir, layout.dataDir);
  } catch (error) {
    if (hadData) fs.renameSync(parked, layout.dataDir);
    throw error;
  }
  if (hadData) fs.renameSync(parked, layout.previousDir);
  return hadData;
}

/** `database restore --previous`: brings back the data the last fresh start or deploy replaced. */
export async function restorePreviousCluster(config: ClusterSetup, log: Logger): Promise<PreviousRestoreResult> {
  const workingDir = requireWorkingDir(config);
  return withWorkingDirLock(workingDir, { command: 'database restore --previous', log }, async () => {
    // A cluster holding other branches' databases keeps the replaced database in it.
    const swapped = await swapPreviousDatabase(config);
    if (swapped) return swapped;
    const layout = clusterLayout(config, workingDir);
    if (!hasPreviousCluster(layout)) {
      throw new MissingInputError(`no previous cluster to bring back: ${layout.previousDir} does not exist (one is kept when a fresh start or deploy replaces a cluster holding rows)`);
    }
    throwIfInterrupted();
    if (runningServer(layout.dataDir)) await log.step('stop the cluster', () => stopServer(layout.dataDir));
    const hadData = swapData(layout);
    try {
      const connection = await initCluster(config, log, { reuse: true, workingDir });
      return { connection, replacedTo: hadData ? layout.previousDir : undefined };
    } catch (error) {
      // The previous cluster does not start: put things back as they were.
      await stopServer(layout.dataDir).catch(() => undefined);
      if (hadData || fs.existsSync(layout.dataDir)) swapData(layout);
      throw error;
    }
  });
}

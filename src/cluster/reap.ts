/**
 * What a watchdog does once its owner is dead (see watchdog.ts): the same cleanup the
 * owner would have done, plus killing the programs it left working on its folders.
 */
import { clusterLayout } from './cluster-layout.js';
import { clearRunDir, type RunDirSettings } from './run-dir.js';
import { stopServer } from './server-process.js';
import { stopSparePreparations } from './ram-spares.js';
import type { WatchdogPlan } from './watchdog.js';
import { takeOverLockOf } from './working-dir-lock.js';

/** Carries out a run's or a deploy's plan (a test run's copies: src/sqltest/clones-watchdog-main.ts). */
export async function carryOutPlan(config: RunDirSettings, plan: WatchdogPlan): Promise<void> {
  switch (plan.kind) {
    case 'run':
      await clearRunDir(config, plan.runDir, plan.keep, { orphaned: true });
      return;
    case 'stop': {
      // Only while the dead owner still holds the lock is the server the one it promised
      // to stop; once another run took the lock over, the cluster is that run's.
      const lock = takeOverLockOf(plan.workingDir, plan.owner, 'watchdog of database deploy --cleanup');
      if (!lock) return;
      try {
        stopSparePreparations(plan.workingDir);
        await stopServer(clusterLayout(config, plan.workingDir).dataDir, { timeoutMs: 5_000 });
      } finally {
        lock.release();
      }
      return;
    }
  }
}

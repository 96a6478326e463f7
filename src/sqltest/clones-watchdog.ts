/**
 * A test run's copies never outlive it (SPEC §12): a watchdog (src/cluster/watchdog.ts)
 * hands clones-watchdog-main.js the plan below if the run dies before releasing it.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import { startReaperWatchdog, type Watchdog } from '../cluster/watchdog.js';

/**
 * Drop the test copies (`dbtool_test_<pid>_<n>`, their RAM tablespace and folder) of
 * `ownerPid`, and of any other run that is gone, on the server of `url`.
 */
export interface ClonesPlan {
  kind: 'clones';
  url: string;
  ownerPid: number;
}

/** Starts the watchdog of a test run; `env` is the environment it runs in. */
export function startClonesWatchdog(env: Config['env'], plan: Omit<ClonesPlan, 'kind'>): Watchdog {
  return startReaperWatchdog(env, path.join(__dirname, 'clones-watchdog-main.js'), { kind: 'clones', ...plan });
}

/** Reads a plan sent by `startClonesWatchdog`; undefined when the text is not one. */
export function parseClonesPlan(text: string): ClonesPlan | undefined {
  try {
    const plan = JSON.parse(text) as ClonesPlan;
    return plan.kind === 'clones' && typeof plan.url === 'string' ? plan : undefined;
  } catch {
    return undefined;
  }
}

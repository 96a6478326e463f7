/**
 * Not a user command: the reaper of the cluster's watchdogs (watchdog.ts), run by the
 * watchdog's shell once the owner died, with the plan on stdin. It reports nothing
 * (nobody is listening) and always exits.
 */
import { loadConfig } from '../base/config.js';
import { carryOutPlan } from './reap.js';
import { parsePlan, readPlanText } from './watchdog.js';

async function main(): Promise<never> {
  const plan = parsePlan(await readPlanText());
  try {
    if (plan) await carryOutPlan(loadConfig(), plan);
  } catch {
    // Nothing to report to: doctor --fix and the next run clear what is left.
  }
  process.exit(0);
}

void main();

/**
 * Not a user command: the second half of a watchdog (src/cluster/watchdog.ts), run by
 * its shell once the owner died, with the plan on stdin. It reports nothing (nobody is
 * listening) and always exits.
 */
import { loadConfig } from '../base/config.js';
import { carryOutPlan } from '../cluster/reap.js';
import { parsePlan } from '../cluster/watchdog.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

const plan = parsePlan((await readStdin()).trim());
if (plan) {
  try {
    await carryOutPlan(loadConfig(), plan);
  } catch {
    // Nothing to report to: doctor --fix and the next run clear what is left.
  }
}
process.exit(0);

/**
 * Not a user command: the second half of a watchdog (src/cluster/watchdog.ts), run by
 * its shell once the owner died, with the plan on stdin. It reports nothing (nobody is
 * listening) and always exits.
 */
// First: the start-up shortcuts (Node's compile cache covers the modules loaded after it).
import '../base/startup-shortcuts.js';
import { loadConfig } from '../base/config.js';
import { clearDeadTestDatabases, connectAdmin } from '../sqltest/test-clones.js';
import { carryOutPlan } from '../cluster/reap.js';
import { parsePlan, type WatchdogPlan } from '../cluster/watchdog.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** A dead test run's copies: the next run's clearing, done now (the owner is gone). */
async function dropTestCopies(plan: Extract<WatchdogPlan, { kind: 'clones' }>): Promise<void> {
  const admin = await connectAdmin(plan.url);
  try {
    await clearDeadTestDatabases(admin, plan.url, { selfPid: process.pid });
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function main(): Promise<never> {
  const plan = parsePlan((await readStdin()).trim());
  if (plan) {
    try {
      if (plan.kind === 'clones') await dropTestCopies(plan);
      else await carryOutPlan(loadConfig(), plan);
    } catch {
      // Nothing to report to: doctor --fix and the next run clear what is left.
    }
  }
  process.exit(0);
}

void main();

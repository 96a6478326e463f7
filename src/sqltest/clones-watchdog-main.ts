/**
 * Not a user command: the reaper of a test run's watchdog (clones-watchdog.ts), run once
 * the run died, with the plan on stdin: the next run's clearing, done now. It reports
 * nothing (nobody is listening) and always exits.
 */
import { readPlanText } from '../cluster/watchdog.js';
import { parseClonesPlan } from './clones-watchdog.js';
import { clearDeadTestDatabases, connectAdmin } from './test-clones.js';

async function dropTestCopies(url: string): Promise<void> {
  const admin = await connectAdmin(url);
  try {
    await clearDeadTestDatabases(admin, url, { selfPid: process.pid });
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function main(): Promise<never> {
  const plan = parseClonesPlan(await readPlanText());
  try {
    if (plan) await dropTestCopies(plan.url);
  } catch {
    // Nothing to report to: doctor --fix and the next run clear what is left.
  }
  process.exit(0);
}

void main();

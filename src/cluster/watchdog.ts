/**
 * Private clusters never outlive their owner (SPEC §12). Each guarded scope — the run
 * folder of `check` or `diff`, `deploy --cleanup`'s project server, `test`'s clones —
 * starts a watchdog: a tiny detached /bin/sh holding the read end of a pipe from us.
 * When we die, however we die, the kernel closes our end, the shell reads end-of-file
 * and hands its plan to a reaper, a program of the layer the plan belongs to, which
 * carries it out within a second or two (watchdog-main.ts with src/cluster/reap.ts for the
 * cluster's plans; src/sqltest/clones-watchdog-main.ts for a test run's copies). When the scope ends normally we send `release` and it exits
 * having done nothing. The plan travels on the pipe: a URL's password never appears on
 * a command line.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import type { ProcessIdentity } from '../base/pids.js';
import { spawnWatchdog } from '../base/process.js';

/** The cluster's plans, carried out by watchdog-main.ts. */
export type WatchdogPlan =
  /** Stop the run's clusters and remove the run folder except `keep`. */
  | { kind: 'run'; runDir: string; keep: string[] }
  /** Stop the server of the working dir, if `owner` still holds its lock (deploy --cleanup). */
  | { kind: 'stop'; workingDir: string; owner: ProcessIdentity };

export interface Watchdog {
  /** The scope ended normally: the watchdog exits doing nothing. */
  release(): void;
}

/**
 * Line 1 is the plan; then we wait for `release` or end-of-file. `read` returns
 * non-zero at end-of-file, which is how the owner's death arrives.
 */
const SCRIPT = [
  'IFS= read -r plan || exit 0',
  'while IFS= read -r line; do [ "$line" = release ] && exit 0; done',
  'printf \'%s\\n\' "$plan" | "$1" "$2"',
].join('\n');

/**
 * Starts a watchdog that, if this process dies before `release()`, runs the compiled
 * program `reaper` (a path: it runs in a process of its own) with `plan` as JSON on stdin.
 */
export function startReaperWatchdog(env: Readonly<Record<string, string>>, reaper: string, plan: object): Watchdog {
  const watchdog = spawnWatchdog(env, SCRIPT, [process.execPath, reaper]);
  watchdog.send(JSON.stringify(plan));
  return { release: () => watchdog.release() };
}

/** Starts a watchdog for one of the cluster's plans; it acts only if this process dies before `release()`. */
export function startWatchdog(config: Pick<Config, 'env'>, plan: WatchdogPlan): Watchdog {
  return startReaperWatchdog(config.env, path.join(__dirname, 'watchdog-main.js'), plan);
}

/** The plan a reaper was handed on stdin (see startReaperWatchdog); '' when there is none. */
export async function readPlanText(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.trim();
}

/** Reads a plan sent by `startWatchdog`; undefined when the text is not one. */
export function parsePlan(text: string): WatchdogPlan | undefined {
  try {
    const plan = JSON.parse(text) as WatchdogPlan;
    return ['run', 'stop'].includes(plan.kind) ? plan : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Private clusters never outlive their owner (SPEC §12). Each guarded scope — the run
 * folder of `check` or `diff`, `deploy --cleanup`'s project server, `test`'s clones —
 * starts a watchdog: a tiny detached /bin/sh holding the read end of a pipe from us.
 * When we die, however we die, the kernel closes our end, the shell reads end-of-file
 * and hands its plan to `dist/cli/watchdog.js`, which carries it out (src/cluster/reap.ts)
 * within a second or two. When the scope ends normally we send `release` and it exits
 * having done nothing. The plan travels on the pipe: a URL's password never appears on
 * a command line.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import type { ProcessIdentity } from '../base/pids.js';
import { spawnWatchdog } from '../base/process.js';

export type WatchdogPlan =
  /** Stop the run's clusters and remove the run folder except `keep`. */
  | { kind: 'run'; runDir: string; keep: string[] }
  /** Stop the server of the working dir, if `owner` still holds its lock (deploy --cleanup). */
  | { kind: 'stop'; workingDir: string; owner: ProcessIdentity }
  /**
   * Drop the test copies (`dbtool_test_<pid>_<n>`, their RAM tablespace and folder) of
   * `ownerPid`, and of any other run that is gone, on the server of `url`.
   */
  | { kind: 'clones'; url: string; ownerPid: number };

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
 * The entry point that carries a plan out. A path, not an import: it is the compiled
 * CLI next to this module's folder, run in a process of its own.
 */
function reaperEntry(): string {
  return path.join(__dirname, '../cli/watchdog.js');
}

/** Starts a watchdog for `plan`; it acts only if this process dies before `release()`. */
export function startWatchdog(config: Config, plan: WatchdogPlan): Watchdog {
  const watchdog = spawnWatchdog(config.env, SCRIPT, [process.execPath, reaperEntry()]);
  watchdog.send(JSON.stringify(plan));
  return { release: () => watchdog.release() };
}

/** Reads a plan sent by `startWatchdog`; undefined when the text is not one. */
export function parsePlan(text: string): WatchdogPlan | undefined {
  try {
    const plan = JSON.parse(text) as WatchdogPlan;
    return ['run', 'stop', 'clones'].includes(plan.kind) ? plan : undefined;
  } catch {
    return undefined;
  }
}

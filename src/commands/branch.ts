/**
 * `database branch …`: one database per git branch (SPEC §17). The work is in src/branch/.
 */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { switchFromHook, type HookSwitch } from '../branch/branch-hook.js';
import { switchBranch } from '../branch/branch-switch.js';

export { currentBranch, gcBranches, listBranches, parseAge, removeBranch, type BranchInfo, type CurrentBranch, type RemovedBranch } from '../branch/branch-housekeeping.js';
export { installHook, type HookInstall, type HookSwitch } from '../branch/branch-hook.js';
export type { SwitchResult } from '../branch/branch-switch.js';

/** `database branch switch [NAME] [--hook]`: `--hook` skips (and says why) where a checkout must not fail. */
export function switchCommand(config: Config, log: Logger, options: { name?: string; hook?: boolean }): Promise<HookSwitch> {
  return options.hook ? switchFromHook(config, log, options.name) : switchBranch(config, log, { name: options.name });
}

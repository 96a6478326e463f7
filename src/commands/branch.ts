/**
 * `database branch …`: one database per git branch (SPEC §17). The work is in src/branch/.
 */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { runningCluster } from '../cluster/cluster-connection.js';
import { switchBranch, type SwitchResult } from '../branch/branch-switch.js';
import { currentGitBranch, gitContext } from '../branch/git.js';

export { currentBranch, gcBranches, listBranches, parseAge, removeBranch, type BranchInfo, type CurrentBranch, type RemovedBranch } from '../branch/branch-housekeeping.js';
export { installHook, type HookInstall } from '../branch/branch-hook.js';
export type { SwitchResult } from '../branch/branch-switch.js';

export type HookSwitch = { skipped: string } | SwitchResult;

/**
 * `switch --hook` (from the post-checkout hook): a checkout with no branch (a rebase's
 * detached HEAD) or with the cluster stopped switches nothing and says why, never fails
 * the checkout.
 */
export async function switchCommand(config: Config, log: Logger, options: { name?: string; hook?: boolean }): Promise<HookSwitch> {
  if (options.hook) {
    if (!runningCluster(config)) return { skipped: 'the project cluster is not running; `database branch switch` once it is' };
    if (!(await currentGitBranch(gitContext(config)))) return { skipped: 'no branch checked out (detached HEAD)' };
  }
  return switchBranch(config, log, { name: options.name });
}

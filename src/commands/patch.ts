/** `database patch [-e]` (SPEC §5): the developer's test data applied to the target. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { patchTarget, type PatchOptions, type PatchResult } from '../deploy/patch.js';

export function patchCommand(config: Config, log: Logger, options: PatchOptions = {}): Promise<PatchResult> {
  return patchTarget(config, log, options);
}

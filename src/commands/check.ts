/** `database check` (SPEC §5, §17): the deploy flow, and the migrations proved, in a throw-away cluster. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { runCheck, type CheckOptions, type CheckResult } from '../diff/check-run.js';

export function checkCommand(config: Config, log: Logger, options: CheckOptions = {}): Promise<CheckResult> {
  return runCheck(config, log, options);
}

/** `migrator rehearse` (SPEC §17): the work is in src/diff/rehearse.ts. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { rehearseMigrations, type RehearseOptions, type RehearseResult } from '../diff/rehearse.js';

export type { RehearseOptions, RehearseResult };

export function rehearseCommand(config: Config, log: Logger, options: RehearseOptions): Promise<RehearseResult> {
  return rehearseMigrations(config, log, options);
}

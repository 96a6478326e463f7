/**
 * `database hydrate [-H] [-m]` (SPEC §5): the target database built from the sources,
 * with the migrations on disk recorded as its baseline (the sources stand for them).
 */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { hydrateTarget, type HydrateOptions, type HydrateResult } from '../deploy/hydrate.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';

export function hydrateCommand(config: Config, log: Logger, options: Omit<HydrateOptions, 'baseline'> = {}): Promise<HydrateResult> {
  return hydrateTarget(config, log, { ...options, baseline: baselineFromDisk(config.migrationDir, log) });
}

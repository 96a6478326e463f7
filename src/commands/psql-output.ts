/**
 * Where the psql output of hydrate and patch goes (SPEC §3): the explicit log file
 * (HYDRATE_LOG / PATCH_LOG), else `$PG_LOG_PATH/<step>.stdout.log` when PG_LOG_PATH is
 * set, else our stdout (undefined: the child inherits it).
 */
import path from 'node:path';
import type { Config } from '../config.js';

export type StepName = 'hydrate' | 'patch';

export function stepOutputFile(config: Config, step: StepName): string | undefined {
  const explicit = step === 'hydrate' ? config.hydrateLog : config.patchLog;
  if (explicit) return explicit;
  return config.logPath ? path.join(config.logPath, `${step}.stdout.log`) : undefined;
}

/**
 * How user SQL steps (hydrate, patch, test) run psql.
 *
 * Where the psql output of hydrate and patch goes (SPEC §3): the explicit log file
 * (HYDRATE_LOG / PATCH_LOG), else `$PG_LOG_PATH/<step>.stdout.log` when PG_LOG_PATH is
 * set, else our stdout (undefined: the child inherits it).
 */
import path from 'node:path';
import type { Config, LocalDirSetting } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { PgPrograms } from '../pg/pg-bin.js';

export type StepName = 'hydrate' | 'patch';

/** The settings that say where a step's psql output goes: HYDRATE_LOG, PATCH_LOG, PG_LOG_PATH. */
export type StepOutputSettings = Pick<Config, 'hydrateLog' | 'patchLog' | 'logPath'>;

/** The settings a user SQL step runs psql with: which psql, from where, its output where. */
export type UserSqlSettings = PgPrograms & LocalDirSetting & StepOutputSettings;

export function stepOutputFile(config: StepOutputSettings, step: StepName): string | undefined {
  const explicit = step === 'hydrate' ? config.hydrateLog : config.patchLog;
  if (explicit) return explicit;
  return config.logPath ? path.join(config.logPath, `${step}.stdout.log`) : undefined;
}

/**
 * psql's working directory for user SQL: the project root ($LOCAL_DIR), else the
 * caller's. `\ir` resolves against the including file anyway; `\i` paths are then
 * relative to the project root wherever the command is run from, as they were when the
 * shell tool ran from a dev shell at the root.
 */
export function userSqlCwd(config: LocalDirSetting): string {
  return config.localDir ?? config.cwd;
}

/** Passes psql's stderr of a successful run (NOTICEs, `\warn`) on to the log. */
export function relayNotices(stderr: string, log: Logger): void {
  for (const line of stderr.split('\n')) if (line.trim() !== '') log.info(line);
}

/** The database `database`'s commands work on (SPEC §5), for `database migrator`. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { resolveTargetUrl } from '../cluster/target.js';

/** --url, else $PG_URL_VAR, DB_URL, the running cluster of PG_WORKING_DIR. */
export function projectTargetUrl(config: Config, url: string | undefined, log: Pick<Logger, 'warn'>): string {
  return resolveTargetUrl(config, { url }, log);
}

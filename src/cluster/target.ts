/**
 * Which database a `database` subcommand works on (SPEC §5): --url, else $PG_URL_VAR,
 * else DB_URL, else the running cluster of PG_WORKING_DIR.
 */
import { runningCluster } from './cluster-connection.js';
import type { Config } from '../base/config.js';
import { isLocalUrl, parseUrl } from '../pg/db.js';
import { MissingInputError, UserError } from '../base/errors.js';
import { redactUrl } from '../base/redact.js';
import { shown } from '../base/text.js';

export interface TargetOptions {
  url?: string | undefined;
}

export function resolveTargetUrl(config: Config, options: TargetOptions = {}): string {
  const url = options.url ?? config.pgUrlFromVar ?? config.dbUrl ?? runningCluster(config)?.url;
  if (!url) {
    throw new MissingInputError(
      `no database to work on: pass --url, set ${config.pgUrlVar} or DB_URL, or start the cluster (database init)`,
    );
  }
  parseUrl(url);
  return url;
}

/** Destructive commands refuse a remote database unless the user insists (SPEC §12). */
export function assertLocalTarget(url: string, allowRemote: boolean | undefined): void {
  if (allowRemote || isLocalUrl(url)) return;
  throw new UserError(`refusing to change a non-local database (${shown(redactUrl(url))}); pass --allow-remote if you mean it`);
}

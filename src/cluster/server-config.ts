/**
 * postgresql.conf handling (SPEC §4 step 4). Fresh clusters get PG_CONF_FILE or our
 * generated settings; on every start a managed block at the end of the file is
 * rewritten, so `port` and `unix_socket_directories` are forced and never duplicated.
 * The files live in folders of the server account: they are read and written through
 * safe-files.ts, never through a link planted there.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterLayout } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { BadInputError, EnvironmentError } from '../base/errors.js';
import { readBelow, writeBelow } from '../base/safe-files.js';

const BLOCK_BEGIN = '# >>> db-tool managed block: rewritten on every start, do not edit >>>';
const BLOCK_END = '# <<< db-tool managed block <<<';
/** Holds `hectic.secret_key`; lives in the data dir, never in a table or a dump. */
export const SECRET_CONF = 'hectic_secret.conf';

/**
 * `name = 'value'` by the config file's own rules (guc-file.l): inside single quotes a
 * quote is doubled and a backslash starts an escape, so both are escaped. A line break
 * or another control character would end the line (or need an escape that the paths and
 * names PostgreSQL passes on cannot carry): such a value is refused, in one line.
 */
export function confSetting(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new BadInputError(`cannot write ${name} into postgresql.conf: ${JSON.stringify(value)} holds a line break or another control character`);
  }
  return `${name} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * One element of a list setting that PostgreSQL splits on commas
 * (unix_socket_directories, shared_preload_libraries): double-quoted, with `""` for a
 * quote, when it holds a comma, a quote or spaces the split would take apart.
 */
export function confListElement(value: string): string {
  return /[,"\s]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Settings written once, on a fresh cluster, when PG_CONF_FILE is not set. */
export function generatedSettings(config: Pick<Config, 'disableLogging'>, layout: ClusterLayout, preload: readonly string[]): string {
  const lines = [
    '',
    '# db-tool: generated settings (fresh cluster)',
    "listen_addresses = ''",
    `logging_collector = ${config.disableLogging ? 'off' : 'on'}`,
    confSetting('log_directory', layout.logDir),
    "log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'",
    confSetting('shared_preload_libraries', preload.map(confListElement).join(',')),
  ];
  if (preload.includes('pg_cron')) {
    lines.push(confSetting('cron.database_name', layout.database), confSetting('cron.host', layout.sockDir));
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the user's PG_CONF_FILE (before anything is wiped, so a bad path changes nothing). */
export function readUserConf(confFile: string): string {
  try {
    // A FIFO or device would block this synchronous read (and every signal) forever.
    if (!fs.statSync(confFile).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    return fs.readFileSync(confFile, 'utf8');
  } catch (error) {
    throw new EnvironmentError(`PG_CONF_FILE is not readable: ${confFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * The configuration of a fresh cluster in `dataDir` (below `anchor`, a folder of the
 * server account): the user's file replaces postgresql.conf, or our generated settings
 * are appended to initdb's. `serverUid` owns initdb's file.
 */
export function installConf(anchor: string, dataDir: string, conf: { replace: string } | { append: string }, serverUid: number): void {
  const file = path.join(dataDir, 'postgresql.conf');
  const owners = { owners: [serverUid] };
  if ('replace' in conf) writeBelow(anchor, file, conf.replace, 'rewrite', owners);
  else writeBelow(anchor, file, conf.append, 'append', owners);
}

/**
 * The managed block at the end of postgresql.conf. `logPathSet`: the logs go to a
 * folder of their own (PG_LOG_PATH, or a private cluster's log folder). Pure, so that a
 * value the file cannot hold is refused before anything is stopped or started.
 */
export function managedBlock(config: Pick<Config, 'confFile' | 'inheritanceExcludedSchemas' | 'logPath'>, layout: ClusterLayout, logPathSet = config.logPath !== undefined): string {
  const lines = [
    BLOCK_BEGIN,
    `port = ${layout.port}`,
    confSetting('unix_socket_directories', confListElement(layout.sockDir)),
  ];
  if (logPathSet && !config.confFile) lines.push(confSetting('log_directory', layout.logDir));
  // HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: every session of every cluster the tool makes or
  // restores (project, check, both diff clusters), not just one database.
  if (config.inheritanceExcludedSchemas !== undefined) {
    lines.push(confSetting('hectic.inheritance_extra_excluded_schemas', config.inheritanceExcludedSchemas));
  }
  lines.push(confSetting('include_if_exists', SECRET_CONF), BLOCK_END);
  return `${lines.join('\n')}\n`;
}

/** Replaces the managed block (see managedBlock) of `file`, a postgresql.conf below `anchor`. */
export function writeManagedBlock(anchor: string, file: string, block: string, serverUid: number): void {
  const owners = { owners: [serverUid] };
  const current = readBelow(anchor, file, owners);
  if (current === undefined) throw new EnvironmentError(`the cluster has no configuration file: ${file} is missing`);
  const start = current.indexOf(BLOCK_BEGIN);
  const end = current.indexOf(BLOCK_END);
  const kept = start >= 0 && end > start ? current.slice(0, start) + current.slice(end + BLOCK_END.length).replace(/^\n/, '') : current;
  writeBelow(anchor, file, `${kept.replace(/\n*$/, '\n')}${block}`, 'rewrite', owners);
}

/** A fresh random key for hectic secrets, in a 0600 file of the data dir (below `anchor`). */
export function writeSecretKey(anchor: string, dataDir: string, serverUid: number): void {
  const key = crypto.randomBytes(32).toString('hex');
  writeBelow(anchor, path.join(dataDir, SECRET_CONF), `hectic.secret_key = '${key}'\n`, 'rewrite', { mode: 0o600, owners: [serverUid] });
}

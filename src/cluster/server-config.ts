/**
 * postgresql.conf handling (SPEC §4 step 4). Fresh clusters get PG_CONF_FILE or our
 * generated settings; on every start a managed block at the end of the file is
 * rewritten, so `port` and `unix_socket_directories` are forced and never duplicated.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterLayout } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { quoteLiteral } from '../pg/db.js';
import { UserError } from '../base/errors.js';

const BLOCK_BEGIN = '# >>> db-tool managed block: rewritten on every start, do not edit >>>';
const BLOCK_END = '# <<< db-tool managed block <<<';
/** Holds `hectic.secret_key`; lives in the data dir, never in a table or a dump. */
export const SECRET_CONF = 'hectic_secret.conf';

function conf(value: string): string {
  return quoteLiteral(value);
}

/** Settings written once, on a fresh cluster, when PG_CONF_FILE is not set. */
export function generatedSettings(config: Config, layout: ClusterLayout, preload: readonly string[]): string {
  const lines = [
    '',
    '# db-tool: generated settings (fresh cluster)',
    "listen_addresses = ''",
    `logging_collector = ${config.disableLogging ? 'off' : 'on'}`,
    `log_directory = ${conf(layout.logDir)}`,
    "log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'",
    `shared_preload_libraries = ${conf(preload.join(','))}`,
  ];
  if (preload.includes('pg_cron')) {
    lines.push(`cron.database_name = ${conf(layout.database)}`, `cron.host = ${conf(layout.sockDir)}`);
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
    throw new UserError(`PG_CONF_FILE is not readable: ${confFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * The configuration of a fresh cluster: the user's file replaces postgresql.conf, or
 * our generated settings are appended to initdb's.
 */
export function installConf(dataDir: string, conf: { replace: string } | { append: string }): void {
  const file = path.join(dataDir, 'postgresql.conf');
  if ('replace' in conf) fs.writeFileSync(file, conf.replace);
  else fs.appendFileSync(file, conf.append);
}

/**
 * Rewrites the managed block at the end of postgresql.conf. `logPathSet`: the logs go
 * to a folder of their own (PG_LOG_PATH, or a private cluster's log folder).
 */
export function writeManagedBlock(config: Config, layout: ClusterLayout, logPathSet = config.logPath !== undefined): void {
  const file = path.join(layout.dataDir, 'postgresql.conf');
  const current = fs.readFileSync(file, 'utf8');
  const start = current.indexOf(BLOCK_BEGIN);
  const end = current.indexOf(BLOCK_END);
  const kept = start >= 0 && end > start ? current.slice(0, start) + current.slice(end + BLOCK_END.length).replace(/^\n/, '') : current;
  const lines = [
    BLOCK_BEGIN,
    `port = ${layout.port}`,
    `unix_socket_directories = ${conf(layout.sockDir)}`,
  ];
  if (logPathSet && !config.confFile) lines.push(`log_directory = ${conf(layout.logDir)}`);
  // HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: every session of every cluster the tool makes or
  // restores (project, check, both diff clusters) gets it, not just one database.
  if (config.inheritanceExcludedSchemas !== undefined) {
    lines.push(`hectic.inheritance_extra_excluded_schemas = ${conf(config.inheritanceExcludedSchemas)}`);
  }
  lines.push(`include_if_exists = ${conf(SECRET_CONF)}`, BLOCK_END);
  fs.writeFileSync(file, `${kept.replace(/\n*$/, '\n')}${lines.join('\n')}\n`);
}

/** A fresh random key for hectic secrets, in a 0600 file of the data dir. */
export function writeSecretKey(dataDir: string): void {
  const key = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(path.join(dataDir, SECRET_CONF), `hectic.secret_key = '${key}'\n`, { mode: 0o600 });
}

/**
 * The defaults of the variables config.ts reads, and the parsers of their values: each
 * bad value is refused in one line naming the variable and what it got (`got` says it:
 * the value, or the `--env-file` line that set it).
 */
import { BadInputError } from './errors.js';
import { isShellIdentifier } from './env-files.js';
import { shown } from './text.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  hydrateEntrypoint: 'entrypoint.sql',
  pgUrlVar: 'PGURL',
  port: 5432,
  database: 'testdb',
  preloadLibraries: 'pg_cron',
  editor: 'vi',
  pager: 'less -R',
  less: 'FRX',
  logLevel: 'info' as LogLevel,
  osUser: 'postgres',
  spares: 2,
} as const;

/** How a message names a bad value of a variable (see loadConfig). */
export type Got = (name: string, value: string) => string;

const YES = ['1', 'true', 'yes', 'on', 'y'];
const NO = ['', '0', 'false', 'no', 'off', 'n'];

/**
 * A yes/no variable (PG_REUSE, PG_DISABLE_LOGGING, NO_TTY): `1`, `true`, `yes`, `on` mean
 * yes; unset, empty, `0`, `false`, `no`, `off` mean no (any case). Anything else is a
 * mistake worth one line rather than a guess.
 */
export function parseYesNo(name: string, raw: string | undefined, got: Got = (_, value) => `got '${shown(value)}'`): boolean {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (YES.includes(value)) return true;
  if (NO.includes(value)) return false;
  throw new BadInputError(`${name} must be yes or no (1, true, yes, on / 0, false, no, off, or empty), ${got(name, raw)}`);
}

/** FORCE_COLOR as Node and chalk read it: a level (1-3) or yes forces colour; 0, false, no, empty do not. */
export function parseForceColor(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  return !NO.includes(value);
}

export function parsePort(raw: string | undefined, got: Got): number {
  if (raw === undefined) return DEFAULTS.port;
  const port = Number(raw);
  if (!/^[0-9]+$/.test(raw) || port < 1 || port > 65535) {
    throw new BadInputError(`PG_PORT must be a port number (1-65535), ${got('PG_PORT', raw)}`);
  }
  return port;
}

/**
 * Any name PostgreSQL keeps as given works end to end (quoted in SQL, percent-encoded in
 * URLs); refused before anything starts: the empty name, one longer than PostgreSQL's
 * 63 bytes (it would be cut short), and control characters (no config line holds them).
 */
export function parseDatabaseName(raw: string | undefined, got: Got): string {
  const name = raw ?? DEFAULTS.database;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name === '' || Buffer.byteLength(name) > 63 || /[\x00-\x1f\x7f]/.test(name)) {
    throw new BadInputError(`PG_DATABASE is not a valid database name (1 to 63 bytes, no control characters), ${got('PG_DATABASE', name)}`);
  }
  return name;
}

/** A comma list of schema names, or `*`; it goes into postgresql.conf, so one line of text. */
export function parseExcludedSchemas(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new BadInputError('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS must be one line: a comma list of schemas, or *');
  return raw;
}

export function parseLogLevel(raw: string | undefined, got: Got): LogLevel {
  if (raw === undefined) return DEFAULTS.logLevel;
  const level = raw.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new BadInputError(`HECTIC_LOG must be one of ${LOG_LEVELS.join(', ')}, ${got('HECTIC_LOG', raw)}`);
}

/** The variable `postgres-init --env` exports the URL as: a shell identifier. */
export function parsePgUrlVar(raw: string | undefined, got: Got): string {
  const name = raw ?? DEFAULTS.pgUrlVar;
  if (!isShellIdentifier(name)) throw new BadInputError(`PG_URL_VAR must be a shell identifier, ${got('PG_URL_VAR', name)}`);
  return name;
}

/** `PG_SPARES`: how many fresh clusters `postgres-init` keeps ready, 0 to 9 (each a copy of the template); 0 keeps none. */
export function parseSpares(raw: string | undefined, got: Got): number {
  if (raw === undefined) return DEFAULTS.spares;
  const value = raw.trim();
  if (!/^[0-9]$/.test(value)) throw new BadInputError(`PG_SPARES must be a number of spare clusters from 0 to 9, ${got('PG_SPARES', raw)}`);
  return Number(value);
}

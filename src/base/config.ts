/**
 * The one place that reads the environment (SPEC §3). Everything else receives a
 * `Config`. Precedence everywhere: command-line flag > `--env-file` > environment
 * variable > default; flags are applied by the CLI on top of the values resolved here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDotenv } from './dotenv.js';
import { MissingInputError, BadInputError } from './errors.js';
import { readSmallTextFile } from './small-file.js';
import { takeHandedOverCaCerts } from './startup-shortcuts.js';
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
} as const;

export interface StagingConfig {
  sshHost: string | undefined;
  dbUrl: string | undefined;
  dumpTables: string | undefined;
  dumpFlags: string | undefined;
}

export interface Config {
  /** The environment handed to child programs. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * `NODE_EXTRA_CA_CERTS`: more certificate authorities for TLS connections. The
   * launcher hands it over as `DB_TOOL_EXTRA_CA_CERTS` (src/base/startup-shortcuts.ts).
   */
  readonly extraCaCerts: string | undefined;
  readonly cwd: string;
  /**
   * The project root: `LOCAL_DIR`, else the nearest folder at or above `cwd` holding
   * `db/` or `focus/` (found as git finds `.git`), else undefined.
   */
  readonly localDir: string | undefined;
  /** How `localDir` was found: `LOCAL_DIR`, or by walking up from `cwd`. */
  readonly localDirFrom: 'LOCAL_DIR' | 'found' | undefined;
  readonly dbUrl: string | undefined;
  /** `PG_WORKING_DIR`, else `$LOCAL_DIR/focus/postgresql`. */
  readonly workingDir: string | undefined;
  readonly databaseDir: string | undefined;
  readonly migrationDir: string | undefined;
  readonly databaseSource: string | undefined;
  readonly hydrateEntrypoint: string;
  readonly profileDir: string | undefined;
  readonly pgUrlVar: string;
  /** The value of the variable named by `PG_URL_VAR`, if set. */
  readonly pgUrlFromVar: string | undefined;
  /** `PGURL` itself (the migrator's last fallback). */
  readonly pgUrl: string | undefined;
  readonly port: number;
  readonly database: string;
  readonly logPath: string | undefined;
  readonly confFile: string | undefined;
  readonly preloadLibraries: string;
  /** True when the user set `PG_SHARED_PRELOAD_LIBRARIES` (a missing library is then fatal). */
  readonly preloadLibrariesExplicit: boolean;
  readonly disableLogging: boolean;
  readonly reuse: boolean;
  /**
   * `HECTIC_INHERITANCE_EXCLUDED_SCHEMAS`: written as `hectic.inheritance_extra_excluded_schemas`
   * into every cluster the tool makes or restores (`*`: every schema, enforcement off).
   */
  readonly inheritanceExcludedSchemas: string | undefined;
  /** `HECTIC_DOTENV_FILE`, else `$LOCAL_DIR/.env.$ENVIRONMENT`. */
  readonly dotenvFile: string | undefined;
  readonly environment: string | undefined;
  readonly patchLog: string | undefined;
  readonly hydrateLog: string | undefined;
  readonly noTty: boolean;
  readonly staging: StagingConfig;
  readonly editor: string;
  readonly pager: string;
  /** The pager's environment: `LESS=FRX` added when LESS is unset (quit if one screen, colours, no alternate screen). */
  readonly pagerEnv: Readonly<Record<string, string>>;
  readonly logLevel: LogLevel;
  readonly pgBinDir: string | undefined;
  readonly osUser: string;
  readonly noColor: boolean;
  readonly forceColor: boolean;
  readonly cacheDir: string;
  readonly tmpDir: string;
  /** Effective uid of this process (0 = root: the server runs as `osUser`). */
  readonly euid: number;
  readonly path: string;
  /**
   * `DB_TOOL_BRANCH_PAUSE`: a debugging hook for fault tests. `database branch switch`
   * stops at the named step (its log says so) and waits to be killed there.
   */
  readonly branchPauseAt: string | undefined;
}


const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isShellIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

export interface LoadOptions {
  /**
   * `--env-file` paths (relative to `cwd`), applied in order: their values count as if
   * exported, above the real environment (a later file wins over an earlier one).
   */
  envFiles?: readonly string[];
}

/** The largest dotenv file we read: secrets and settings, never megabytes. */
export const DOTENV_MAX_BYTES = 1024 * 1024;

/** A variable's value and, when an `--env-file` set it, where (a dotenv line is never echoed). */
interface EnvFileValue {
  value: string;
  origin: string;
}

/**
 * The variables of a dotenv file read deliberately (`--env-file`): only a regular file of
 * at most DOTENV_MAX_BYTES. Unreadable, or a line that is not `NAME=VALUE` with NAME a
 * variable name → exit 3 naming the file and line.
 */
function readEnvFile(file: string): Map<string, EnvFileValue> {
  const read = readSmallTextFile(file, DOTENV_MAX_BYTES);
  if (!read.ok) throw new MissingInputError(`--env-file ${shown(file)}: cannot read it (${read.reason})`);
  const parsed = parseDotenv(read.text);
  if (!parsed.ok) throw new MissingInputError(`--env-file ${shown(file)}: line ${parsed.line}: ${parsed.reason}`);
  const bad = parsed.entries.find((entry) => !isShellIdentifier(entry.key));
  if (bad) throw new MissingInputError(`--env-file ${shown(file)}: line ${bad.line}: the name before "=" is not a variable name`);
  return new Map(parsed.entries.map((entry) => [entry.key, { value: entry.value, origin: `--env-file ${shown(file)}, line ${entry.line}` }]));
}

/** The real environment with the `--env-file` values laid over it, and where those values came from. */
function withEnvFiles(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  files: readonly string[],
): { env: Readonly<Record<string, string | undefined>>; origins: Map<string, string> } {
  const origins = new Map<string, string>();
  if (files.length === 0) return { env, origins };
  const merged: Record<string, string | undefined> = { ...env };
  for (const file of files) {
    for (const [key, { value, origin }] of readEnvFile(path.resolve(cwd, file))) {
      merged[key] = value;
      origins.set(key, origin);
    }
  }
  return { env: merged, origins };
}

/** This process's configuration: its environment and working directory, plus `--env-file`s. */
export function loadProcessConfig(options: LoadOptions = {}): Config {
  return loadConfig(process.env, process.cwd(), options);
}

/** Build the configuration from an environment (default: this process's). */
export function loadConfig(
  realEnv: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
  options: LoadOptions = {},
): Config {
  const { env, origins } = withEnvFiles(realEnv, cwd, options.envFiles ?? []);
  // What a message says of a bad value: the value from the environment; from a dotenv
  // file, where it is (its line is never echoed: it may hold a secret).
  const got = (name: string, value: string): string => {
    const origin = origins.get(name);
    return origin ? `(set in ${origin})` : `got '${shown(value)}'`;
  };
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const resolve = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(cwd, p);

  const localDirSet = resolve(get('LOCAL_DIR'));
  const localDir = localDirSet ?? findProjectRoot(cwd);
  const databaseDir = resolve(get('DATABASE_DIR')) ?? (localDir && path.join(localDir, 'db'));
  const pgUrlVar = get('PG_URL_VAR') ?? DEFAULTS.pgUrlVar;
  if (!isShellIdentifier(pgUrlVar)) {
    throw new BadInputError(`PG_URL_VAR must be a shell identifier, ${got('PG_URL_VAR', pgUrlVar)}`);
  }
  const environment = get('ENVIRONMENT');
  const home = get('HOME') ?? os.homedir();
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value;
  const extraCaCerts = takeHandedOverCaCerts(childEnv);

  return {
    env: childEnv,
    extraCaCerts,
    cwd,
    localDir,
    localDirFrom: localDirSet ? 'LOCAL_DIR' : localDir ? 'found' : undefined,
    dbUrl: get('DB_URL'),
    workingDir: resolve(get('PG_WORKING_DIR')) ?? (localDir && path.join(localDir, 'focus', 'postgresql')),
    databaseDir,
    migrationDir: resolve(get('MIGRATION_DIR')) ?? (databaseDir && path.join(databaseDir, 'migration')),
    databaseSource: resolve(get('DATABASE_SOURCE')) ?? (databaseDir && path.join(databaseDir, 'src')),
    hydrateEntrypoint: get('HYDRATE_ENTRYPOINT') ?? DEFAULTS.hydrateEntrypoint,
    profileDir: resolve(get('PROFILE_DIR')) ?? localDir,
    pgUrlVar,
    pgUrlFromVar: get(pgUrlVar),
    pgUrl: get('PGURL'),
    port: parsePort(get('PG_PORT'), got),
    database: parseDatabaseName(get('PG_DATABASE'), got),
    logPath: resolve(get('PG_LOG_PATH')),
    confFile: resolve(get('PG_CONF_FILE')),
    preloadLibraries: env.PG_SHARED_PRELOAD_LIBRARIES ?? DEFAULTS.preloadLibraries,
    preloadLibrariesExplicit: env.PG_SHARED_PRELOAD_LIBRARIES !== undefined,
    disableLogging: parseYesNo('PG_DISABLE_LOGGING', env.PG_DISABLE_LOGGING, got),
    reuse: parseYesNo('PG_REUSE', env.PG_REUSE, got),
    inheritanceExcludedSchemas: parseExcludedSchemas(get('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS')),
    dotenvFile:
      resolve(get('HECTIC_DOTENV_FILE')) ??
      (localDir && environment ? path.join(localDir, `.env.${environment}`) : undefined),
    environment,
    patchLog: resolve(get('PATCH_LOG')),
    hydrateLog: resolve(get('HYDRATE_LOG')),
    noTty: parseYesNo('NO_TTY', env.NO_TTY, got),
    staging: {
      sshHost: get('STAGING_SSH_HOST'),
      dbUrl: get('STAGING_DB_URL'),
      dumpTables: get('STAGING_DUMP_TABLES'),
      dumpFlags: env.STAGING_DUMP_FLAGS,
    },
    editor: get('EDITOR') ?? DEFAULTS.editor,
    pager: get('PAGER') ?? DEFAULTS.pager,
    pagerEnv: env.LESS === undefined ? { ...childEnv, LESS: DEFAULTS.less } : childEnv,
    logLevel: parseLogLevel(get('HECTIC_LOG'), got),
    pgBinDir: resolve(get('PG_BIN_DIR')),
    osUser: get('PG_OS_USER') ?? DEFAULTS.osUser,
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    forceColor: parseForceColor(env.FORCE_COLOR),
    cacheDir: path.join(resolve(get('XDG_CACHE_HOME')) ?? path.join(home, '.cache'), 'db-tool'),
    tmpDir: resolve(get('TMPDIR')) ?? '/tmp',
    euid: typeof process.geteuid === 'function' ? process.geteuid() : 1000,
    path: get('PATH') ?? '/usr/local/bin:/usr/bin:/bin',
    branchPauseAt: get('DB_TOOL_BRANCH_PAUSE'),
  };
}

/** How a message names a bad value of a variable (see loadConfig). */
type Got = (name: string, value: string) => string;

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
function parseForceColor(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  return !NO.includes(value);
}

/** What marks a project root: the folders the tool reads (`db/`) or makes (`focus/`). */
const PROJECT_MARKERS = ['db', 'focus'];

/**
 * The nearest folder at or above `start` that holds `db/` or `focus/`, found the way git
 * finds `.git`; undefined when none up to the root does.
 */
export function findProjectRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (PROJECT_MARKERS.some((marker) => fs.statSync(path.join(dir, marker), { throwIfNoEntry: false })?.isDirectory())) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function parsePort(raw: string | undefined, got: Got): number {
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
function parseDatabaseName(raw: string | undefined, got: Got): string {
  const name = raw ?? DEFAULTS.database;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name === '' || Buffer.byteLength(name) > 63 || /[\x00-\x1f\x7f]/.test(name)) {
    throw new BadInputError(`PG_DATABASE is not a valid database name (1 to 63 bytes, no control characters), ${got('PG_DATABASE', name)}`);
  }
  return name;
}

/** A comma list of schema names, or `*`; it goes into postgresql.conf, so one line of text. */
function parseExcludedSchemas(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new BadInputError('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS must be one line: a comma list of schemas, or *');
  return raw;
}

function parseLogLevel(raw: string | undefined, got: Got): LogLevel {
  if (raw === undefined) return DEFAULTS.logLevel;
  const level = raw.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new BadInputError(`HECTIC_LOG must be one of ${LOG_LEVELS.join(', ')}, ${got('HECTIC_LOG', raw)}`);
}


/** Why there is no project, and what to do: the end of every "not set" message. */
const NO_PROJECT_HINT = 'cd into the project (a folder holding db/ or focus/, or below one), or export LOCAL_DIR=$PWD';

function noProjectHint(config: Config): string {
  return `no project found at or above ${config.cwd}: ${NO_PROJECT_HINT}`;
}

/** The cluster folder, or exit 3 naming the variables that give it. */
export function requireWorkingDir(config: Config): string {
  if (config.workingDir) return config.workingDir;
  throw new MissingInputError(`PG_WORKING_DIR is not set and ${noProjectHint(config)} (or set PG_WORKING_DIR)`);
}

/** The project root, or exit 3. */
export function requireLocalDir(config: Config): string {
  if (config.localDir) return config.localDir;
  throw new MissingInputError(`LOCAL_DIR is not set and ${noProjectHint(config)}`);
}

/**
 * The configuration of a new project (`database scaffold`): its root is LOCAL_DIR, else
 * the current directory (never a project found above it).
 */
export function newProjectConfig(config: Config): Config {
  if (config.localDirFrom === 'LOCAL_DIR') return config;
  return loadConfig({ ...config.env, LOCAL_DIR: config.cwd }, config.cwd);
}

/** A path-valued setting that has a default under LOCAL_DIR, or exit 3 naming both. */
export function requirePath(value: string | undefined, variable: string): string {
  if (value) return value;
  throw new MissingInputError(`${variable} is not set and no project was found: set ${variable}, or ${NO_PROJECT_HINT}`);
}

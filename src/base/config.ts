/**
 * The one place that reads the environment (SPEC §3). Everything else receives a
 * `Config`. Precedence everywhere: command-line flag > `--env-file` > environment
 * variable > default; flags are applied by the CLI on top of the values resolved here.
 */
import os from 'node:os';
import path from 'node:path';
import { MissingInputError } from './errors.js';
import { takeHandedOverCaCerts } from './startup-shortcuts.js';
import { shown } from './text.js';
import { withEnvFiles } from './env-files.js';
import { findProjectRoot } from './project-root.js';
import { DEFAULTS, parseDatabaseName, parseExcludedSchemas, parseForceColor, parseLogLevel, parsePgUrlVar, parsePort, parseSpares, parseYesNo, type Got, type LogLevel } from './config-values.js';

export { DEFAULTS, LOG_LEVELS, parseYesNo, type LogLevel } from './config-values.js';

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
  /** `PG_SPARES`: fresh clusters kept ready in the background after a start (0: none). */
  readonly spares: number;
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

export interface LoadOptions {
  /**
   * `--env-file` paths (relative to `cwd`), applied in order: their values count as if
   * exported, above the real environment (a later file wins over an earlier one).
   */
  envFiles?: readonly string[];
}

/** This process's configuration: its environment and working directory, plus `--env-file`s. */
export function loadProcessConfig(options: LoadOptions = {}): Config {
  return loadConfig(process.env, process.cwd(), options);
}

/** The variables that have a value: the environment the tool's programs get. */
function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) defined[key] = value;
  return defined;
}

/**
 * What a message says of a bad value: the value from the environment; from a dotenv
 * file, where it is (its line is never echoed: it may hold a secret).
 */
function gotFrom(origins: ReadonlyMap<string, string>): Got {
  return (name, value) => {
    const origin = origins.get(name);
    return origin ? `(set in ${origin})` : `got '${shown(value)}'`;
  };
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/db-tool`: the template cache and the tool's own logs. */
function toolCacheDir(xdgCacheHome: string | undefined, home: string): string {
  return path.join(xdgCacheHome ?? path.join(home, '.cache'), 'db-tool');
}

/**
 * The tool's cache folder as this process's environment names it, read before anything
 * else is loaded (src/cli/compile-cache.ts): an --env-file is not read yet.
 */
export function startupCacheDir(): string {
  const value = (name: string): string | undefined => process.env[name] || undefined;
  const xdgCacheHome = value('XDG_CACHE_HOME');
  return toolCacheDir(xdgCacheHome === undefined ? undefined : path.resolve(xdgCacheHome), value('HOME') ?? os.homedir());
}

/** Build the configuration from an environment (default: this process's). */
export function loadConfig(
  realEnv: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
  options: LoadOptions = {},
): Config {
  const { env, origins } = withEnvFiles(realEnv, cwd, options.envFiles ?? []);
  const got = gotFrom(origins);
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const resolve = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(cwd, p);
  const folders = projectFolders(get, cwd);
  const pgUrlVar = parsePgUrlVar(get('PG_URL_VAR'), got);
  const environment = get('ENVIRONMENT');
  const home = get('HOME') ?? os.homedir();
  const childEnv = definedOnly(env);
  const extraCaCerts = takeHandedOverCaCerts(childEnv);

  return {
    env: childEnv,
    extraCaCerts,
    cwd,
    ...folders,
    dbUrl: get('DB_URL'),
    hydrateEntrypoint: get('HYDRATE_ENTRYPOINT') ?? DEFAULTS.hydrateEntrypoint,
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
    spares: parseSpares(get('PG_SPARES'), got),
    inheritanceExcludedSchemas: parseExcludedSchemas(get('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS')),
    dotenvFile:
      resolve(get('HECTIC_DOTENV_FILE')) ??
      (folders.localDir && environment ? path.join(folders.localDir, `.env.${environment}`) : undefined),
    environment,
    patchLog: resolve(get('PATCH_LOG')),
    hydrateLog: resolve(get('HYDRATE_LOG')),
    noTty: parseYesNo('NO_TTY', env.NO_TTY, got),
    staging: { sshHost: get('STAGING_SSH_HOST'), dbUrl: get('STAGING_DB_URL'), dumpTables: get('STAGING_DUMP_TABLES'), dumpFlags: env.STAGING_DUMP_FLAGS },
    ...terminalSettings(env, childEnv, got),
    pgBinDir: resolve(get('PG_BIN_DIR')),
    osUser: get('PG_OS_USER') ?? DEFAULTS.osUser,
    cacheDir: toolCacheDir(resolve(get('XDG_CACHE_HOME')), home),
    tmpDir: resolve(get('TMPDIR')) ?? '/tmp',
    euid: typeof process.geteuid === 'function' ? process.geteuid() : 1000,
    path: get('PATH') ?? '/usr/local/bin:/usr/bin:/bin',
    branchPauseAt: get('DB_TOOL_BRANCH_PAUSE'),
  };
}

type TerminalSettings = Pick<Config, 'editor' | 'pager' | 'pagerEnv' | 'logLevel' | 'noColor' | 'forceColor'>;

/** What the tool shows and opens in a terminal: the editor, the pager, log level and colours. */
function terminalSettings(env: Readonly<Record<string, string | undefined>>, childEnv: Record<string, string>, got: Got): TerminalSettings {
  const get = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  return {
    editor: get('EDITOR') ?? DEFAULTS.editor,
    pager: get('PAGER') ?? DEFAULTS.pager,
    pagerEnv: env.LESS === undefined ? { ...childEnv, LESS: DEFAULTS.less } : childEnv,
    logLevel: parseLogLevel(get('HECTIC_LOG'), got),
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    forceColor: parseForceColor(env.FORCE_COLOR),
  };
}

type ProjectFolders = Pick<Config, 'localDir' | 'localDirFrom' | 'workingDir' | 'databaseDir' | 'migrationDir' | 'databaseSource' | 'profileDir'>;

/** The project's folders: each variable when set (relative to `cwd`), else its place in the project found. */
function projectFolders(get: (name: string) => string | undefined, cwd: string): ProjectFolders {
  const resolve = (name: string): string | undefined => {
    const value = get(name);
    return value === undefined ? undefined : path.resolve(cwd, value);
  };
  const localDirSet = resolve('LOCAL_DIR');
  const localDir = localDirSet ?? findProjectRoot(cwd);
  const databaseDir = resolve('DATABASE_DIR') ?? (localDir && path.join(localDir, 'db'));
  return {
    localDir,
    localDirFrom: localDirSet ? 'LOCAL_DIR' : localDir ? 'found' : undefined,
    workingDir: resolve('PG_WORKING_DIR') ?? (localDir && path.join(localDir, 'focus', 'postgresql')),
    databaseDir,
    migrationDir: resolve('MIGRATION_DIR') ?? (databaseDir && path.join(databaseDir, 'migration')),
    databaseSource: resolve('DATABASE_SOURCE') ?? (databaseDir && path.join(databaseDir, 'src')),
    profileDir: resolve('PROFILE_DIR') ?? localDir,
  };
}

/** Why there is no project, and what to do: the end of every "not set" message. */
const NO_PROJECT_HINT = 'cd into the project (a folder holding db/ or focus/, or below one), or export LOCAL_DIR=$PWD';

/** Where the tool was started: what a "no project" message names. */
type StartFolder = Pick<Config, 'cwd'>;

/** The settings that give the cluster folder (PG_WORKING_DIR, else found from `cwd`). */
export type WorkingDirSetting = StartFolder & Pick<Config, 'workingDir'>;

/** The settings that give the project root (LOCAL_DIR, else found from `cwd`). */
export type LocalDirSetting = StartFolder & Pick<Config, 'localDir'>;

function noProjectHint(config: StartFolder): string {
  return `no project found at or above ${config.cwd}: ${NO_PROJECT_HINT}`;
}

/** The cluster folder, or exit 3 naming the variables that give it. */
export function requireWorkingDir(config: WorkingDirSetting): string {
  if (config.workingDir) return config.workingDir;
  throw new MissingInputError(`PG_WORKING_DIR is not set and ${noProjectHint(config)} (or set PG_WORKING_DIR)`);
}

/** The project root, or exit 3. */
export function requireLocalDir(config: LocalDirSetting): string {
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

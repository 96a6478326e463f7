/**
 * Finding PostgreSQL programs (SPEC §2): PG_BIN_DIR; PATH; `pg_config --bindir`; the
 * newest /usr/lib/postgresql/<major>/bin (Debian keeps initdb and pg_ctl off PATH).
 *
 * On Debian, PATH's psql is pg_wrapper, a Perl script that runs the newest installed
 * psql: 17 ms of Perl on every psql we start (16 files of `database test` start 16). We
 * run that newest psql ourselves, and pg_dump of the server's version (else the newest)
 * the same way (check's migrations proof and diff dump twice).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../base/config.js';

/**
 * The settings that find PostgreSQL's programs and run them: PG_BIN_DIR, PATH, and the
 * environment they get (a narrow part of `Config`).
 */
export type PgPrograms = Pick<Config, 'env' | 'path' | 'pgBinDir'>;
import { MissingProgramError } from '../base/errors.js';
import { readProgramOutput } from '../base/process.js';

export type PgProgram =
  | 'initdb' | 'pg_ctl' | 'postgres' | 'psql' | 'pg_dump' | 'pg_basebackup' | 'pg_config' | 'pg_isready';

const INSTALL_HINT =
  'install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; Nix: add postgresql to the shell), ' +
  'or set PG_BIN_DIR to the folder holding its programs';

const DEBIAN_ROOT = '/usr/lib/postgresql';
const DEBIAN_WRAPPER = 'pg_wrapper';
/** Programs pg_wrapper always runs in their newest installed version, whatever the cluster. */
const NEWEST_THROUGH_WRAPPER = new Set<PgProgram>(['psql', 'pg_isready']);

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function searchPath(name: string, pathValue: string): string | undefined {
  for (const dir of pathValue.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** /usr/lib/postgresql/<major>/bin folders, newest first. */
export function debianBinDirs(root = DEBIAN_ROOT): string[] {
  let majors: string[];
  try {
    majors = fs.readdirSync(root).filter((name) => /^[0-9]+(\.[0-9]+)?$/.test(name));
  } catch {
    return [];
  }
  return majors.sort((a, b) => Number(b) - Number(a)).map((major) => path.join(root, major, 'bin'));
}

const bindirFromPgConfig = new Map<string, string | undefined>();

function pgConfigBindir(config: Pick<PgPrograms, 'env' | 'path'>): string | undefined {
  if (!bindirFromPgConfig.has(config.path)) {
    const pgConfig = searchPath('pg_config', config.path);
    bindirFromPgConfig.set(config.path, pgConfig ? readProgramOutput(pgConfig, ['--bindir'], config.env) : undefined);
  }
  return bindirFromPgConfig.get(config.path);
}

/** True when `file` is (a link to) Debian's pg_wrapper. */
function isDebianWrapper(file: string): boolean {
  try {
    return path.basename(fs.realpathSync(file)) === DEBIAN_WRAPPER;
  } catch {
    return false;
  }
}

/**
 * What pg_wrapper would run for `name`: the newest installed version for psql and
 * pg_isready; for a program used on a server of major `serverMajor`, that version when
 * installed (its choice for a local cluster of that version), else the newest (its
 * choice without one). Unknown otherwise: the wrapper decides.
 */
function behindWrapper(name: PgProgram, debianRoot: string, serverMajor: number | undefined): string | undefined {
  if (!NEWEST_THROUGH_WRAPPER.has(name) && serverMajor === undefined) return undefined;
  const installed = debianBinDirs(debianRoot).filter((dir) => isExecutable(path.join(dir, name)));
  const matching = NEWEST_THROUGH_WRAPPER.has(name) ? undefined : installed.find((dir) => path.basename(path.dirname(dir)) === String(serverMajor));
  const chosen = matching ?? installed[0];
  return chosen && path.join(chosen, name);
}

/**
 * Locates a PostgreSQL program or returns undefined. `serverMajor`: the major version of
 * the server it will talk to, which pg_wrapper cannot learn from a URL (it would follow
 * the machine's default cluster, not ours).
 */
export function locatePgProgram(config: PgPrograms, name: PgProgram, debianRoot = DEBIAN_ROOT, serverMajor?: number): string | undefined {
  if (config.pgBinDir) {
    const candidate = path.join(config.pgBinDir, name);
    if (isExecutable(candidate)) return candidate;
  }
  const onPath = searchPath(name, config.path);
  if (onPath) return (isDebianWrapper(onPath) && behindWrapper(name, debianRoot, serverMajor)) || onPath;
  const fromPgConfig = pgConfigBindir(config);
  if (fromPgConfig && isExecutable(path.join(fromPgConfig, name))) return path.join(fromPgConfig, name);
  for (const dir of debianBinDirs(debianRoot)) {
    if (isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Locates a PostgreSQL program (for a server of major `serverMajor`) or throws exit 127 naming it and how to get it. */
export function pgProgram(config: PgPrograms, name: PgProgram, serverMajor?: number): string {
  const found = locatePgProgram(config, name, DEBIAN_ROOT, serverMajor);
  if (found) return found;
  throw new MissingProgramError(`required program not found: ${name} (${INSTALL_HINT})`);
}

/**
 * The server's programs (initdb, postgres, pg_ctl) must come from one installation:
 * prefer the folder the `postgres` binary lives in for its siblings.
 */
export function serverProgram(config: PgPrograms, name: 'initdb' | 'postgres' | 'pg_ctl' | 'pg_basebackup'): string {
  const postgres = pgProgram(config, 'postgres');
  if (name === 'postgres') return postgres;
  const sibling = path.join(path.dirname(fs.realpathSync(postgres)), name);
  return isExecutable(sibling) ? sibling : pgProgram(config, name);
}

/** Finds a non-PostgreSQL program (ssh, less…) on `pathValue` (a PATH), or undefined. */
export function locateProgram(pathValue: string, name: string): string | undefined {
  return searchPath(name, pathValue);
}

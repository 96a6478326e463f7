/**
 * shared_preload_libraries of a fresh cluster: the libraries asked for, found beside the
 * server's bin/ folder or where pg_config says.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../base/config.js';
import { MissingProgramError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { locatePgProgram, type PgPrograms } from '../pg/pg-bin.js';
import { runProgram } from '../base/process.js';

/** The usual places of `shared_preload_libraries` next to the server's bin/ folder. */
function nearbyLibDirs(binDir: string): string[] {
  return [path.resolve(binDir, '..', 'lib'), path.resolve(binDir, '..', 'lib', 'postgresql')].filter((dir) => fs.existsSync(dir));
}

/** Each library folder once, however it was spelled. */
function uniqueDirs(dirs: readonly string[]): string[] {
  const seen = new Set<string>();
  return dirs.filter((dir) => {
    let real = path.resolve(dir);
    try {
      real = fs.realpathSync(real);
    } catch {
      // keep the resolved spelling
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** `pg_config --pkglibdir` of the server build, asked only when the nearby folders fail. */
async function pgConfigLibDir(env: Config['env'], binDir: string): Promise<string[]> {
  const pgConfig = path.join(binDir, 'pg_config');
  if (!fs.existsSync(pgConfig)) return [];
  const result = await runProgram(pgConfig, ['--pkglibdir'], { env, timeoutMs: 5_000 });
  return result.code === 0 ? [result.stdout.trim()] : [];
}

function libraryIn(dirs: readonly string[], lib: string): boolean {
  const file = lib.replace(/^\$libdir\//, '');
  if (path.isAbsolute(file)) return fs.existsSync(file) || fs.existsSync(`${file}.so`);
  return dirs.some((dir) => fs.existsSync(path.join(dir, `${file}.so`)) || fs.existsSync(path.join(dir, file)));
}

/** Which of `libraries` this PostgreSQL lacks, and the library folders looked in. */
export async function missingLibraries(config: PgPrograms, libraries: readonly string[]): Promise<{ missing: string[]; dirs: string[] }> {
  const postgres = locatePgProgram(config, 'postgres');
  const binDir = postgres ? path.dirname(fs.realpathSync(postgres)) : undefined;
  let dirs = binDir ? nearbyLibDirs(binDir) : [];
  let missing = libraries.filter((lib) => !libraryIn(dirs, lib));
  if (missing.length > 0 && binDir) {
    dirs = uniqueDirs([...dirs, ...(await pgConfigLibDir(config.env, binDir))]);
    missing = libraries.filter((lib) => !libraryIn(dirs, lib));
  }
  return { missing, dirs };
}

/** The settings that choose and find shared_preload_libraries (PG_SHARED_PRELOAD_LIBRARIES). */
export type PreloadSettings = PgPrograms & Pick<Config, 'preloadLibraries' | 'preloadLibrariesExplicit'>;

/**
 * shared_preload_libraries for a fresh cluster. The default pg_cron is dropped with a
 * warning when this PostgreSQL lacks it; a library the user asked for must exist.
 */
export async function resolvePreloadLibraries(config: PreloadSettings, log: Logger): Promise<string[]> {
  const wanted = config.preloadLibraries.split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return [];
  const { missing, dirs } = await missingLibraries(config, wanted);
  if (missing.length === 0) return wanted;
  if (config.preloadLibrariesExplicit) {
    throw new MissingProgramError(
      `shared_preload_libraries: ${missing.join(', ')} not installed for this PostgreSQL (looked in ${dirs.join(', ') || 'no library folder'})`,
    );
  }
  log.warn(`${missing.join(', ')} is not installed for this PostgreSQL; starting without it (install postgresql-<major>-cron, or set PG_SHARED_PRELOAD_LIBRARIES='')`);
  return wanted.filter((lib) => !missing.includes(lib));
}

/**
 * A list setting as PostgreSQL splits it (SplitDirectoriesString): elements separated by
 * commas, spaces around them dropped, an element in double quotes taken whole (`""` is
 * a quote).
 */
export function splitListSetting(value: string): string[] {
  const elements: string[] = [];
  const element = /\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(?:,|$)/gy;
  for (let match = element.exec(value); match && match.index < value.length; match = element.exec(value)) {
    const text = match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? '');
    if (text !== '') elements.push(text);
    if (match[0] === '') break;
  }
  return elements;
}

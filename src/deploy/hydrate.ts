/**
 * `database hydrate` (SPEC §5): build a database from the declarative sources —
 * the hectic bundle (unless --no-hook), the dotenv secrets when a file is readable,
 * then `$DATABASE_SOURCE/$HYDRATE_ENTRYPOINT` through psql with ON_ERROR_STOP.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { applyBundle, type BundleResult } from './bundle.js';
import { requirePath, type Config } from '../base/config.js';
import { withClient } from '../pg/db.js';
import { readDotenvFile, type DotenvFile, type DotenvSettings } from './dotenv-file.js';
import { BadInputError } from '../base/errors.js';
import { assertTablesExist } from './inherits.js';
import type { Logger } from '../base/log.js';
import { runPsql } from '../pg/psql.js';
import { plural } from '../base/text.js';
import { assertLocalTarget, resolveTargetUrl, type TargetSettings } from '../cluster/target.js';
import { relayNotices, stepOutputFile, userSqlCwd, type UserSqlSettings } from './user-sql.js';

/** A migration on disk that a database built from the sources already stands for. */
export interface BaselineMigration {
  name: string;
  /** sha256 of its up file. */
  hash: string;
}

export interface HydrateStepOptions {
  /** -H/--no-hook: do not apply the hectic bundle. */
  noHook?: boolean;
  /** -m/--mock: run the sources with `-v USE_MOCK=1`. */
  mock?: boolean;
  /**
   * Where psql's output goes: a file (appended). Default: HYDRATE_LOG, else
   * `$PG_LOG_PATH/hydrate.stdout.log`, else our stdout (SPEC §3).
   */
  outputFile?: string;
  /**
   * The migrations on disk, recorded in hectic.migration as a baseline once the sources
   * ran (SPEC §5 deploy): the database they built stands for all of them.
   */
  baseline?: readonly BaselineMigration[];
}

export interface HydrateOptions extends HydrateStepOptions {
  /** --url: the database to hydrate (else SPEC §5 order). */
  url?: string;
  /** --allow-remote: permit a non-local target. */
  allowRemote?: boolean;
  /** -i/--inherits: tables that must exist once the database is built. */
  inherits?: readonly string[];
}

export interface SecretsLoaded {
  file: string;
  count: number;
}

export interface HydrateResult {
  url: string;
  entrypoint: string;
  /** What applying the bundle did; undefined with --no-hook. */
  bundle: BundleResult | undefined;
  /** Secrets loaded from the dotenv file; undefined when none was loaded. */
  secrets: SecretsLoaded | undefined;
  /** File that received psql's output; undefined when it went to stdout. */
  outputFile: string | undefined;
  /** Migrations newly recorded as a baseline (none without hectic.migration). */
  baselineRecorded: string[];
}

/** The settings that name the hydrate entrypoint: DATABASE_SOURCE and HYDRATE_ENTRYPOINT. */
export type EntrypointSettings = Pick<Config, 'databaseSource' | 'hydrateEntrypoint'>;

/** The settings hydrate runs with: the entrypoint, the dotenv file, and how user SQL runs. */
export type HydrateSettings = EntrypointSettings & DotenvSettings & UserSqlSettings;

/** `$DATABASE_SOURCE/$HYDRATE_ENTRYPOINT`: exit 3 when unconfigured, 1 when absent. */
export function hydrateEntrypoint(config: EntrypointSettings): string {
  const source = requirePath(config.databaseSource, 'DATABASE_SOURCE');
  const file = path.resolve(source, config.hydrateEntrypoint);
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new BadInputError(`hydrate entrypoint not found: ${file} (check DATABASE_SOURCE and HYDRATE_ENTRYPOINT)`);
  }
  return file;
}

const LOAD_FUNCTION = 'hectic.load_secrets_from_env(text)';

/** Strips the function's own prefix so the message reads `dotenv file F: line 3: …`. */
function dotenvFailure(file: string, error: unknown): BadInputError {
  const pgError = error as Error & { hint?: string };
  const reason = pgError.message.replace(/^hectic\.load_secrets_from_env:\s*/, '');
  return new BadInputError(`cannot load secrets from dotenv file ${file}: ${reason}; the previous secrets are kept`, pgError.hint ? `HINT: ${pgError.hint}` : undefined);
}

/**
 * Replaces the secrets with those of the dotenv file. The text goes as a bind
 * parameter and its logging is turned off where we may, so no value reaches a log.
 */
async function loadSecrets(client: pg.ClientBase, dotenv: DotenvFile, log: Logger): Promise<SecretsLoaded | undefined> {
  const present = await client.query<{ present: boolean }>('SELECT to_regprocedure($1) IS NOT NULL AS present', [LOAD_FUNCTION]);
  if (!present.rows[0]?.present) {
    log.warn(`dotenv file ${dotenv.path} not loaded: the hectic bundle is not installed in this database (hydrate without --no-hook installs it)`);
    return undefined;
  }
  // Superuser-only settings; on a server where we are not superuser the defaults
  // (parameters not logged) apply anyway.
  await client.query('SET log_parameter_max_length = 0').catch(() => undefined);
  await client.query('SET log_parameter_max_length_on_error = 0').catch(() => undefined);
  try {
    const result = await client.query<{ count: number }>('SELECT hectic.load_secrets_from_env($1) AS count', [dotenv.text]);
    const count = Number(result.rows[0]?.count ?? 0);
    log.info(`loaded ${count} secret${count === 1 ? '' : 's'} from ${dotenv.path}`);
    return { file: dotenv.path, count };
  } catch (error) {
    throw dotenvFailure(dotenv.path, error);
  }
}

/** The dotenv file to load, after saying why there is none when that is worth saying. */
function dotenvToLoad(config: DotenvSettings, log: Logger): DotenvFile | undefined {
  const lookup = readDotenvFile(config);
  if (lookup.kind === 'found') return lookup.file;
  if (lookup.kind === 'unreadable') {
    const message = `dotenv file ${lookup.path} is not readable (${lookup.reason}); no secrets loaded`;
    if (lookup.explicit) log.warn(message);
    else log.debug(message);
  }
  return undefined;
}

/**
 * Records `baseline` in hectic.migration, marked `baseline = true`, leaving migrations
 * already recorded alone. Without the bookkeeping table (--no-hook on a fresh database)
 * there is nothing to record into.
 */
export async function recordBaseline(client: pg.ClientBase, baseline: readonly BaselineMigration[], log: Logger): Promise<string[]> {
  if (baseline.length === 0) return [];
  const columns = await client.query<{ table: boolean; marker: boolean }>(
    `SELECT to_regclass('hectic.migration') IS NOT NULL AS table,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('hectic.migration') AND attname = 'baseline' AND NOT attisdropped) AS marker`,
  );
  const found = columns.rows[0];
  if (!found?.table || !found.marker) {
    log.debug('no hectic.migration with a baseline column (hydrate --no-hook?): migrations not recorded as a baseline');
    return [];
  }
  const result = await client.query<{ name: string }>(
    `INSERT INTO hectic.migration (name, hash, baseline)
     SELECT name, hash, true FROM unnest($1::text[], $2::text[]) AS m(name, hash)
     ON CONFLICT (name) DO NOTHING
     RETURNING name::text AS name`,
    [baseline.map((migration) => migration.name), baseline.map((migration) => migration.hash)],
  );
  const recorded = result.rows.map((row) => row.name).sort();
  if (recorded.length > 0) log.info(`recorded ${plural(recorded.length, 'migration')} on disk as applied (baseline)`);
  return recorded;
}

/**
 * Hydrates the database at `url` (no target resolution, no remote check: deploy and
 * check call this on the cluster they started).
 */
export async function hydrateDatabase(config: HydrateSettings, log: Logger, url: string, options: HydrateStepOptions = {}): Promise<HydrateResult> {
  const entrypoint = hydrateEntrypoint(config);
  const dotenv = dotenvToLoad(config, log);
  let bundle: BundleResult | undefined;
  let secrets: SecretsLoaded | undefined;
  if (!options.noHook || dotenv) {
    await withClient(url, async (client) => {
      if (!options.noHook) bundle = await log.step('hectic bundle', () => applyBundle(client, log));
      if (dotenv) secrets = await loadSecrets(client, dotenv, log);
    });
  }
  const outputFile = options.outputFile ?? stepOutputFile(config, 'hydrate');
  const result = await log.step(`hydrate ${entrypoint}${options.mock ? ' (USE_MOCK=1)' : ''}`, () =>
    runPsql(config, `hydrate (${entrypoint})`, {
      url,
      file: entrypoint,
      vars: options.mock ? { USE_MOCK: '1' } : {},
      output: outputFile,
      cwd: userSqlCwd(config),
    }),
  );
  relayNotices(result.stderr, log);
  if (outputFile) log.debug(`hydrate output appended to ${outputFile}`);
  const baseline = options.baseline ?? [];
  const baselineRecorded = baseline.length > 0 ? await withClient(url, (client) => recordBaseline(client, baseline, log)) : [];
  return { url, entrypoint, bundle, secrets, outputFile, baselineRecorded };
}

/** Hydrates the target per SPEC §5 (`database hydrate`), refused when remote unless allowed. */
export async function hydrateTarget(config: HydrateSettings & TargetSettings, log: Logger, options: HydrateOptions = {}): Promise<HydrateResult> {
  const url = resolveTargetUrl(config, { url: options.url }, log);
  assertLocalTarget(url, options.allowRemote);
  const result = await hydrateDatabase(config, log, url, options);
  await assertTablesExist(url, options.inherits ?? [], log);
  return result;
}

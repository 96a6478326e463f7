/**
 * The hectic SQL bundle (SPEC §6): the files in `sql/`, the version they carry, and
 * applying them to a database in one transaction.
 *
 * The SQL files are the single source of truth and converge the `hectic` schema on
 * their own (they inspect the catalog, so they also upgrade the shell tool's 0.1.0
 * schema). This module adds what SQL alone cannot: a lock so concurrent appliers
 * serialise, the decision installed / upgraded / unchanged made *before* anything is
 * touched, and typed errors naming the file that failed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { DbToolError, InternalError } from '../base/errors.js';
import type { Logger } from '../base/log.js';

/** The bundle files, in the order they must be applied. */
export const BUNDLE_FILES = [
  'hectic-version.sql',
  'hectic-secret.sql',
  'hectic-migration.sql',
  'hectic-inheritance.sql',
] as const;

export type BundleFile = (typeof BUNDLE_FILES)[number];

/** Placeholder in `hectic-version.sql` replaced by the content of `HECTIC_VERSION`. */
export const VERSION_PLACEHOLDER = '@HECTIC_VERSION@';

/**
 * Key of the transaction-level advisory lock taken while the bundle is applied: the
 * bytes of "hecticbd" as a bigint. Distinct from any lock the migrator takes.
 */
export const BUNDLE_LOCK_KEY = '7522528104227758692';

export interface BundleResult {
  /** The version found in `hectic.version` before applying, or null when none was. */
  previousVersion: string | null;
  /** The version now installed (the bundle's own). */
  version: string;
  action: 'installed' | 'upgraded' | 'unchanged';
}

const VERSION_PATTERN = /^(\d+)\.(\d+)\.(\d+)$/;

/** The folder holding the bundle; two levels above this file in both `src/` and `dist/`. */
export function sqlDir(): string {
  return join(__dirname, '../../sql/');
}

const bundleTexts = new Map<string, string>();

function readBundleText(name: string): string {
  const path = join(sqlDir(), name);
  const cached = bundleTexts.get(path);
  if (cached !== undefined) return cached;
  try {
    const text = readFileSync(path, 'utf8');
    bundleTexts.set(path, text);
    return text;
  } catch (error) {
    throw new InternalError(`hectic bundle file ${path} cannot be read: ${(error as Error).message}`);
  }
}

/** sha256 of the bundle's SQL as applied (version substituted), recorded in hectic.version.fingerprint. */
export function bundleFingerprint(version: string = bundleVersion()): string {
  const hash = createHash('sha256');
  for (const name of BUNDLE_FILES) hash.update(`${name}\n${bundleFileSql(name, version)}\n`);
  return hash.digest('hex');
}

/** The bundle version from `sql/HECTIC_VERSION`, trimmed. */
export function bundleVersion(): string {
  const version = readBundleText('HECTIC_VERSION').trim();
  if (!VERSION_PATTERN.test(version)) {
    throw new InternalError(`sql/HECTIC_VERSION must hold a version like 1.2.3, found "${version}"`);
  }
  return version;
}

/** Parses `x.y.z` into numbers; anything else (pre-release tags included) is null. */
export function parseBundleVersion(version: string): [number, number, number] | null {
  const match = VERSION_PATTERN.exec(version);
  if (!match) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Numeric comparison of two `x.y.z` versions: negative, zero or positive. */
export function compareBundleVersions(a: [number, number, number], b: [number, number, number]): number {
  for (let i = 0; i < 3; i += 1) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The SQL of one bundle file, with the version placeholder substituted. */
export function bundleFileSql(name: BundleFile, version: string = bundleVersion()): string {
  return readBundleText(name).replaceAll(VERSION_PLACEHOLDER, version);
}

/**
 * The whole bundle as one script (files in order, version substituted, each preceded by
 * a `-- file: NAME` comment), e.g. for `migrator init --dry-run`. It contains no
 * BEGIN/COMMIT: wrap it (`psql -1`) to apply it atomically.
 */
export function bundleSql(): string {
  const version = bundleVersion();
  return BUNDLE_FILES.map((name) => `-- file: ${name}\n${bundleFileSql(name, version).trimEnd()}\n`).join('\n');
}

/**
 * Decides what applying a bundle of version `bundle` does to a database holding
 * `installed` (null: none). Throws InternalError (exit 13) for a newer or unknown
 * installed version: an older tool must not touch a schema it does not know.
 */
export function planBundle(installed: string | null, bundle: string): BundleResult['action'] {
  if (installed === null) return 'installed';
  if (installed === bundle) return 'unchanged';
  const have = parseBundleVersion(installed);
  const want = parseBundleVersion(bundle);
  if (!want) throw new InternalError(`invalid hectic bundle version "${bundle}"`);
  if (!have) {
    throw new InternalError(
      `hectic bundle version conflict: the database has unknown version "${installed}", this db-tool ships ${bundle}; nothing was changed`,
    );
  }
  if (compareBundleVersions(have, want) > 0) {
    throw new InternalError(
      `hectic bundle version conflict: the database has version ${installed}, newer than ${bundle} shipped by this db-tool; nothing was changed`,
      `Use a db-tool release that ships hectic ${installed} or newer.`,
    );
  }
  return 'upgraded';
}

async function readInstalledVersion(client: ClientBase): Promise<string | null> {
  const exists = await client.query<{ present: boolean }>(
    "SELECT to_regclass('hectic.version') IS NOT NULL AS present",
  );
  if (!exists.rows[0]?.present) return null;
  const row = await client.query<{ version: string | null }>(
    "SELECT version FROM hectic.version WHERE name = 'hectic'",
  );
  return row.rows[0]?.version ?? null;
}

interface PgErrorFields {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
}

function isPgError(error: unknown): error is Error & PgErrorFields {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

/** Wraps a PostgreSQL error from one bundle file: file (and line, when known) first. */
function bundleFileError(error: unknown, name: string, sql: string): InternalError {
  if (!isPgError(error)) {
    return new InternalError(`hectic bundle: ${name}: ${(error as Error)?.message ?? String(error)}`);
  }
  let where = name;
  const position = Number(error.position);
  if (Number.isInteger(position) && position > 0) {
    where += `:${sql.slice(0, position - 1).split('\n').length}`;
  }
  const details = [
    error.detail ? `DETAIL: ${error.detail}` : '',
    error.hint ? `HINT: ${error.hint}` : '',
    error.where ? `CONTEXT: ${error.where}` : '',
  ].filter(Boolean);
  return new InternalError(`hectic bundle: ${where}: ${error.message}`, details.length > 0 ? details.join('\n') : undefined);
}

/**
 * Applies the bundle in one transaction (BEGIN … COMMIT; ROLLBACK on any error).
 *
 * Takes an advisory lock first so concurrent appliers serialise, then reads the
 * installed version to decide installed / upgraded / unchanged before changing anything.
 * The files run even when the version is unchanged: they only (re)create what is missing
 * or different, so a repeat changes nothing and a damaged install is repaired.
 *
 * Must be called outside a transaction (it commits its own). Throws InternalError
 * (exit 13) for a newer or unknown installed version, and for any PostgreSQL error in a
 * file (message names the file; the error's DETAIL/HINT/CONTEXT are in `details`).
 */
export async function applyBundle(client: ClientBase, log: Logger): Promise<BundleResult> {
  const version = bundleVersion();
  const files = BUNDLE_FILES.map((name) => ({ name, sql: bundleFileSql(name, version) }));

  const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : null;
  if (status === 'T' || status === 'E') {
    throw new InternalError('applyBundle was called inside an open transaction; it must run its own');
  }

  // Notices raised by the bundle ("hectic: encrypted 2 existing secret(s)…") are kept
  // until COMMIT, so a rolled-back upgrade never claims to have done something.
  const notices: string[] = [];
  const onNotice = (notice: { message?: string | undefined }): void => {
    if (notice.message) notices.push(notice.message);
  };
  client.on('notice', onNotice);
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [BUNDLE_LOCK_KEY]);
      const previousVersion = await readInstalledVersion(client);
      const action = planBundle(previousVersion, version);
      log.debug(`hectic bundle: database has ${previousVersion ?? 'none'}, bundle is ${version}`);

      for (const file of files) {
        try {
          await client.query(file.sql);
        } catch (error) {
          throw bundleFileError(error, file.name, file.sql);
        }
      }
      await client.query(
        "UPDATE hectic.version SET fingerprint = $1 WHERE name = 'hectic' AND fingerprint IS DISTINCT FROM $1",
        [bundleFingerprint(version)],
      );
      await client.query('COMMIT');

      for (const message of notices) {
        if (message.startsWith('hectic:') && !message.startsWith('hectic: upgrading bundle')) log.notice(message);
        else log.trace(message);
      }
      if (action === 'upgraded') log.notice(`hectic bundle upgraded from ${previousVersion} to ${version}`);
      else if (action === 'installed') log.info(`hectic bundle ${version} installed`);
      else log.debug(`hectic bundle ${version} already installed`);
      return { previousVersion, version, action };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      for (const message of notices) log.debug(message);
      throw error;
    }
  } catch (error) {
    if (error instanceof DbToolError) throw error;
    throw new InternalError(`applying the hectic bundle failed: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    client.removeListener('notice', onNotice);
  }
}

/** The event triggers of the bundle (public API names). */
const EVENT_TRIGGERS = ['hectic_enforce_created_at_inheritance', 'hectic_attach_updated_at_trigger', 'hectic_attach_immutable_triggers'];

/**
 * True when the database holds exactly this bundle: the same version and fingerprint
 * (recorded by applyBundle), and the objects migrations rely on still there. Two quick
 * queries tell; then `migrate` (its hot path) skips the files. `migrator init` and
 * hydrate always run them (applyBundle), which also repairs an install damaged by hand
 * in ways this check does not look at.
 */
export async function holdsCurrentBundle(client: ClientBase): Promise<boolean> {
  const version = bundleVersion();
  const fingerprint = bundleFingerprint(version);
  const objects = await client.query<{ version_table: boolean; tables: boolean; event_triggers: number }>(
    `SELECT to_regclass('hectic.version') IS NOT NULL AS version_table,
            to_regclass('hectic.migration') IS NOT NULL AND to_regclass('hectic.created_at') IS NOT NULL
              AND to_regclass('hectic.updated_at') IS NOT NULL AND to_regclass('hectic.immutable') IS NOT NULL AS tables,
            (SELECT count(*) FROM pg_event_trigger WHERE evtname IN (${EVENT_TRIGGERS.map((name) => `'${name}'`).join(', ')}))::int AS event_triggers`,
  );
  const found = objects.rows[0];
  if (!found?.version_table || !found.tables || found.event_triggers !== EVENT_TRIGGERS.length) return false;
  const row = await client.query<{ version: string; fingerprint: string | null }>(
    "SELECT version, to_jsonb(v) ->> 'fingerprint' AS fingerprint FROM hectic.version AS v WHERE name = 'hectic'",
  );
  return row.rows[0]?.version === version && row.rows[0]?.fingerprint === fingerprint;
}

/**
 * The run's snapshot of a target that `CREATE DATABASE … TEMPLATE` cannot copy because
 * a background worker stays connected to it — pg_cron's scheduler, preloaded by default
 * with `cron.database_name` = PG_DATABASE, never disconnects. Such a target is copied
 * the slow way once: an empty database (from template0, with the target's encoding and
 * locale) filled by `pg_dump target | psql snapshot`; the per-file copies are then made
 * from the snapshot with TEMPLATE as usual (nobody is connected to it).
 *
 * pg_cron's scheduler is normally moved off the target for the copy instead
 * (cluster/cron-launcher.ts); this is for the other workers, and for a scheduler we may
 * not restart (a server elsewhere). A target that has the pg_cron extension is not
 * copied this way: PostgreSQL allows that extension only in `cron.database_name`, so a
 * copy would lack the `cron` schema its tests may read (`cron.job`) — those files run in
 * the target instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MissingProgramError } from '../base/errors.js';
import { runPipe } from '../base/process.js';
import { versionBoundProgram } from '../pg/client-version.js';
import { quoteIdent, quoteLiteral } from '../pg/db.js';
import { pgProgram, type PgPrograms } from '../pg/pg-bin.js';

/** A session in the target: `kind` is pg_stat_activity.backend_type. */
export interface ConnectedSession {
  pid: number;
  kind: string;
  application: string;
  /** The role it is connected as. */
  user?: string;
  /** Where from: `socket`, or the client's address. */
  client?: string;
  /** When it connected (ISO 8601). */
  since?: string;
}

/** Background workers stay connected for good; client sessions end (or are the user's to end). */
export function isResidentWorker(session: ConnectedSession): boolean {
  return session.kind !== 'client backend';
}

/** The workers, named for a message: pg_cron's scheduler by its role, others by their kind. */
export function describeWorkers(sessions: readonly ConnectedSession[]): string {
  return sessions.map((session) => session.kind === 'pg_cron launcher'
    ? `pg_cron's scheduler (pid ${session.pid})`
    : `a ${session.kind} (pid ${session.pid})`).join(', ');
}

/** What `CREATE DATABASE` needs to give an empty database the target's encoding and locale. */
export interface DatabaseLocale {
  encoding: string;
  collate: string;
  ctype: string;
  /** pg_database.datlocprovider: `c` (libc), `i` (ICU), `b` (builtin); absent before PostgreSQL 15. */
  provider: string | undefined;
  /** daticulocale (15, 16) or datlocale (17+). */
  locale: string | undefined;
  /** daticurules (16+). */
  icuRules: string | undefined;
}

/** The locale of a pg_database row read as JSON, whatever the server's version calls its columns. */
export function localeOf(row: Readonly<Record<string, unknown>>, encoding: string): DatabaseLocale {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    encoding,
    collate: text(row.datcollate) ?? 'C',
    ctype: text(row.datctype) ?? 'C',
    provider: text(row.datlocprovider),
    locale: text(row.datlocale) ?? text(row.daticulocale),
    icuRules: text(row.daticurules),
  };
}

/** `CREATE DATABASE name TEMPLATE template0` with the target's encoding and locale, then `clause` (tablespace, strategy). */
export function createEmptyDatabaseSql(name: string, locale: DatabaseLocale, clause: string): string {
  const parts = [`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`, `ENCODING ${quoteLiteral(locale.encoding)}`, `LC_COLLATE ${quoteLiteral(locale.collate)}`, `LC_CTYPE ${quoteLiteral(locale.ctype)}`];
  if (locale.provider === 'i') {
    parts.push('LOCALE_PROVIDER icu');
    if (locale.locale) parts.push(`ICU_LOCALE ${quoteLiteral(locale.locale)}`);
    if (locale.icuRules) parts.push(`ICU_RULES ${quoteLiteral(locale.icuRules)}`);
  } else if (locale.provider === 'b') {
    parts.push('LOCALE_PROVIDER builtin');
    if (locale.locale) parts.push(`BUILTIN_LOCALE ${quoteLiteral(locale.locale)}`);
  } else if (locale.provider === 'c') {
    parts.push('LOCALE_PROVIDER libc');
  }
  return `${parts.join(' ')}${clause}`;
}

export interface DumpInto {
  /** The target. */
  from: string;
  /** The empty snapshot database. */
  into: string;
  /** `SHOW server_version`: pg_dump must be at least as new. */
  serverVersion: string;
  /** As superuser, objects keep their owners; otherwise everything is ours (`--no-owner`). */
  superuser: boolean;
  signal?: AbortSignal;
}

/** The first line psql or pg_dump said about an error, else its last line. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /\b(ERROR|FATAL|error):/.test(line)) ?? lines.at(-1) ?? '';
}

/**
 * Fills `into` with `pg_dump from`, in one transaction. Returns undefined when it worked,
 * else why not in one line (pg_dump missing or older than the server, or its or psql's
 * first error).
 */
export async function dumpInto(config: PgPrograms, options: DumpInto): Promise<string | undefined> {
  let pgDump: string;
  try {
    pgDump = await versionBoundProgram(config, 'pg_dump', options.serverVersion);
  } catch (error) {
    if (error instanceof MissingProgramError) return error.message;
    throw error;
  }
  // pg_dump ≥ 17.6 writes \restrict, which only a psql as new understands: its sibling first.
  const sibling = path.join(path.dirname(pgDump), 'psql');
  const psql = fs.existsSync(sibling) ? sibling : pgProgram(config, 'psql');
  const dumpArgs = ['--dbname', options.from, '--no-subscriptions', ...(options.superuser ? [] : ['--no-owner', '--no-privileges'])];
  const restoreArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '--output', '/dev/null', '-d', options.into, '-f', '-'];
  const { from, to } = await runPipe({ program: pgDump, args: dumpArgs }, { program: psql, args: restoreArgs }, { env: config.env, signal: options.signal });
  const dumpFailed = from.code !== 0 ? `pg_dump failed: ${firstError(from.stderr) || `exit ${from.code}`}` : undefined;
  // A psql that stopped at an error ends pg_dump by SIGPIPE: then psql's error is the news.
  if (dumpFailed && !from.signal) return dumpFailed;
  if (to.code !== 0) return `psql could not load the dump: ${firstError(to.stderr) || `exit ${to.code}`}`;
  return dumpFailed;
}

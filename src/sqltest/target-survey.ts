/**
 * What a test run asks of the server and the target before copying it, in one round
 * trip, and how it names the sessions that block a copy.
 */
import type pg from 'pg';
import { connect, parseUrl, quoteIdent, quoteLiteral } from '../pg/db.js';
import { CRON_LAUNCHER } from '../cluster/cron-launcher.js';
import { isResidentWorker, localeOf, type ConnectedSession, type DatabaseLocale } from './test-snapshot-dump.js';
import { connectAdmin } from './test-clones.js';

/** Who else is connected to a database (autovacuum workers do not count: PostgreSQL waits for them). */
export type Session = ConnectedSession;

/** What a run needs to know of the server and the target, asked in one round trip. */
export interface TargetSurvey {
  version: number;
  /** `SHOW server_version`. */
  versionText: string;
  maxConnections: number;
  superuser: boolean;
  /** Only a superuser may read it. */
  dataDirectory: string | undefined;
  /** Why we may not copy the target (PostgreSQL's words), if we may not. */
  refusal: string | undefined;
  /** Sessions that would block a copy. */
  sessions: Session[];
  /** Statements that give a copy the target's settings, `%DB%` for its name. */
  settings: string[];
  /** For an empty database like the target (the pg_dump snapshot). */
  locale: DatabaseLocale;
}

/** GUCs whose stored value is a list of quoted names, to be given back unquoted (pg_dump does the same). */
const LIST_SETTINGS = new Set(['search_path', 'temp_tablespaces', 'session_preload_libraries', 'shared_preload_libraries', 'local_preload_libraries', 'unix_socket_directories']);

/**
 * `ALTER DATABASE target SET …` (and `ALTER ROLE … IN DATABASE target SET …`) belong to
 * the database's oid and are not copied by TEMPLATE: the statements that give a copy the
 * same settings, with `%DB%` for its name.
 */
export function settingStatements(rows: readonly { role: string | null; config: readonly string[] }[]): string[] {
  const statements: string[] = [];
  for (const row of rows) {
    for (const entry of row.config) {
      const equals = entry.indexOf('=');
      const name = entry.slice(0, equals);
      const value = entry.slice(equals + 1);
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) continue;
      const sqlValue = LIST_SETTINGS.has(name.toLowerCase()) ? value : quoteLiteral(value);
      const target = row.role ? `ROLE ${quoteIdent(row.role)} IN DATABASE %DB%` : 'DATABASE %DB%';
      statements.push(`ALTER ${target} SET ${name} = ${sqlValue}`);
    }
  }
  return statements;
}

export async function surveyTarget(admin: pg.Client, database: string): Promise<TargetSurvey> {
  const row = (await admin.query<{
    version: string; version_text: string; connections: string; superuser: string; data: string | null;
    may_create: boolean | null; may_copy: boolean | null;
    sessions: { pid: number; kind: string | null; application: string | null; user: string | null; client: string | null; since: string | null }[];
    settings: { role: string | null; config: string[] }[];
    database: Record<string, unknown> | null; encoding: string | null;
  }>(
    `SELECT current_setting('server_version_num') AS version, current_setting('server_version') AS version_text,
            current_setting('max_connections') AS connections,
            current_setting('is_superuser') AS superuser,
            CASE WHEN current_setting('is_superuser') = 'on' THEN current_setting('data_directory') END AS data,
            (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user) AS may_create,
            (SELECT datistemplate OR pg_has_role(datdba, 'MEMBER') FROM pg_database WHERE datname = $1) AS may_copy,
            (SELECT coalesce(json_agg(json_build_object('pid', pid, 'kind', backend_type, 'application', application_name, 'user', usename,
                      'client', CASE WHEN client_addr IS NOT NULL THEN host(client_addr) WHEN client_port = -1 THEN 'socket' END,
                      'since', to_char(backend_start, 'HH24:MI:SS')) ORDER BY pid), '[]')
               FROM pg_stat_activity
              WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type IS DISTINCT FROM 'autovacuum worker') AS sessions,
            (SELECT coalesce(json_agg(json_build_object('role', r.rolname, 'config', s.setconfig)), '[]')
               FROM pg_db_role_setting AS s LEFT JOIN pg_roles AS r ON r.oid = s.setrole
              WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)) AS settings,
            (SELECT to_jsonb(d) FROM pg_database AS d WHERE datname = $1) AS database,
            (SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = $1) AS encoding`,
    [database],
  )).rows[0];
  if (!row) throw new Error('the server answered no row');
  const refusal = row.may_create === false
    ? 'permission denied to create database'
    : row.may_copy === false ? `permission denied to copy database "${database}"` : undefined;
  return {
    version: Number(row.version),
    versionText: row.version_text,
    maxConnections: Number(row.connections),
    superuser: row.superuser === 'on',
    dataDirectory: row.data ?? undefined,
    refusal,
    sessions: row.sessions.map((session) => ({
      pid: session.pid,
      kind: session.kind ?? 'session',
      application: session.application ?? '',
      user: session.user ?? undefined,
      client: session.client ?? undefined,
      since: session.since ?? undefined,
    })),
    settings: settingStatements(row.settings),
    locale: localeOf(row.database ?? {}, row.encoding ?? 'UTF8'),
  };
}

/** One session, said so that its owner recognises it: `psql (pid 4242, user alice, socket, since 07:31:05)`. */
export function describeSession(session: Session): string {
  if (session.kind === CRON_LAUNCHER) return `pg_cron's scheduler (pid ${session.pid}, cron.database_name)`;
  const what = session.kind !== 'client backend' ? session.kind : session.application ? session.application : 'a session';
  const facts = [`pid ${session.pid}`, session.user && `user ${session.user}`, session.client, session.since && `since ${session.since}`].filter(Boolean);
  return `${what} (${facts.join(', ')})`;
}

/** Who blocks a copy of `database`, said in one line, with what it means. */
export function describeBlockers(database: string, sessions: readonly Session[]): string {
  const named = sessions.slice(0, 3).map(describeSession);
  const more = sessions.length > 3 ? ` and ${sessions.length - 3} more` : '';
  return `${database} is in use by ${named.join(', ')}${more}, and PostgreSQL copies only databases nobody is connected to (end ${sessions.length === 1 ? 'that session' : 'those sessions'} to give each file its own copy)`;
}

/**
 * A session connected to the target between our look and the copy (PostgreSQL's 55006):
 * who it is, in the same words as when it was there from the start; PostgreSQL's own
 * message when it is gone again or cannot be asked.
 */
export async function whoConnected(url: string, postgresSays: string): Promise<string> {
  try {
    const admin = await connectAdmin(url);
    try {
      const target = parseUrl(url).database ?? (await currentDatabase(url));
      const survey = await surveyTarget(admin, target);
      const clients = survey.sessions.filter((session) => !isResidentWorker(session));
      return clients.length > 0 ? describeBlockers(target, clients) : postgresSays;
    } finally {
      await admin.end().catch(() => undefined);
    }
  } catch {
    return postgresSays;
  }
}

/** The database a URL without one connects to (libpq's default: the user's name). */
export async function currentDatabase(url: string): Promise<string> {
  const client = await connect(url);
  try {
    return (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Test databases: each SQL test file runs in its own copy of the target, made with
 * `CREATE DATABASE … TEMPLATE` and dropped afterwards (SPEC §5 `test`).
 *
 * Names: a run's copies are `dbtool_test_<pid>_<n>` (n = 0 is the run's snapshot of the
 * target, the others are per file), its RAM tablespace `dbtool_test_<pid>`, its RAM
 * folder `/dev/shm/db-tool-test-<pid>-*`. The owner's pid is in every name, so whatever
 * a crashed run left is found and cleared by the next run on the same server
 * (`clearDeadTestDatabases`); SIGINT/SIGTERM drop them at once.
 *
 * Where copies live, by measurement (2 cores shared with other work, small hydrated
 * database of 8 MB, ext4 on a virtual disk): one copy and drop costs 170–550 ms in the
 * default tablespace on disk — PostgreSQL creates about 340 files — and 15–40 ms in a
 * tablespace on /dev/shm. So on a local server where we are superuser, a run makes a
 * throw-away tablespace in RAM and puts its copies there; elsewhere they stay in the
 * default tablespace.
 *
 * Strategy, by the same measurement: in RAM, STRATEGY FILE_COPY (7–25 ms per copy)
 * and WAL_LOG (9–40 ms) are close, on disk both are dominated by file creation; FILE_COPY
 * writes one WAL record instead of the whole database into pg_wal, which lives on disk.
 * FILE_COPY it is (PostgreSQL 15 added the choice; older servers only copy files).
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../base/config.js';
import { isProcessAlive } from '../base/pids.js';
import { removeBelow } from '../base/safe-files.js';
import { tmpfsHasRoom } from '../cluster/ram-storage.js';
import { connect, isLocalUrl, parseUrl, quoteIdent, quoteLiteral, withClient } from '../pg/db.js';
import { CRON_LAUNCHER, withDatabaseFreeOfCronLauncher, type FreedResult } from '../cluster/cron-launcher.js';
import { createEmptyDatabaseSql, describeWorkers, dumpInto, isResidentWorker, localeOf, type ConnectedSession, type DatabaseLocale } from './test-snapshot-dump.js';

const CLONE_NAME = /^dbtool_test_(\d+)_(\d+)$/;
const TABLESPACE_NAME = /^dbtool_test_(\d+)$/;
const RAM_PARENT = '/dev/shm';
const RAM_PREFIX = 'db-tool-test-';
const RAM_FOLDER = /^db-tool-test-(\d+)-/;

export function cloneName(ownerPid: number, n: number): string {
  return `dbtool_test_${ownerPid}_${n}`;
}

function tablespaceName(ownerPid: number): string {
  return `dbtool_test_${ownerPid}`;
}

/** The pid of the run that made a test database, tablespace or RAM folder; undefined for other names. */
export function ownerOf(name: string): number | undefined {
  const match = CLONE_NAME.exec(name) ?? TABLESPACE_NAME.exec(name) ?? RAM_FOLDER.exec(name);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** The same connection URL with another database (any libpq URI shape: socket, host list, query parameters). */
export function urlForDatabase(url: string, database: string): string {
  parseUrl(url);
  const match = /^([a-z]+:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/is.exec(url);
  if (!match?.[1]) throw new Error(`cannot place a database name in ${url}`);
  return `${match[1]}/${encodeURIComponent(database)}${match[3] ?? ''}`;
}

/**
 * A connection for CREATE/DROP DATABASE: to the `postgres` database of the target's
 * server (never the target: a session there blocks TEMPLATE), else `template1`.
 */
export async function connectAdmin(url: string): Promise<pg.Client> {
  try {
    return await connect(url, { database: 'postgres' });
  } catch (error) {
    if (!/does not exist/.test((error as Error).message)) throw error;
    return connect(url, { database: 'template1' });
  }
}

function removeRamFolder(folder: string): void {
  // The server account's folder: removed without following a link it put there.
  if (path.dirname(folder) === RAM_PARENT && path.basename(folder).startsWith(RAM_PREFIX)) removeBelow(RAM_PARENT, folder);
}

/** What a run found and removed of runs that ended without cleaning up. */
export interface Cleared {
  databases: string[];
  tablespaces: string[];
  folders: string[];
}

/**
 * Drops the test databases and tablespaces that runs which are gone left on this
 * server, and their RAM folders. Only for a server on this machine: a pid says nothing
 * about processes elsewhere. Names of `selfPid` are leftovers too — a run that had our
 * pid before us — because we have made none yet. Returns what it dropped.
 */
export async function clearDeadTestDatabases(
  admin: pg.Client,
  url: string,
  options: { selfPid: number; isAlive?: (pid: number) => boolean },
): Promise<Cleared> {
  const cleared: Cleared = { databases: [], tablespaces: [], folders: [] };
  if (!isLocalUrl(url)) return cleared;
  const isAlive = options.isAlive ?? isProcessAlive;
  const dead = (name: string): boolean => {
    const owner = ownerOf(name);
    return owner !== undefined && (owner === options.selfPid || !isAlive(owner));
  };
  const found = await admin.query<{ kind: 'database' | 'tablespace'; name: string; location: string | null }>(
    `SELECT 'database' AS kind, datname AS name, NULL AS location FROM pg_database WHERE datname ~ '^dbtool_test_[0-9]+_[0-9]+$'
     UNION ALL
     SELECT 'tablespace', spcname, pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname ~ '^dbtool_test_[0-9]+$'
     ORDER BY 1, 2`,
  );
  // One we may not drop (another user's, as a non-superuser) is left to its owner.
  const tryDrop = (sql: string): Promise<boolean> => admin.query(sql).then(() => true, () => false);
  for (const { kind, name, location } of found.rows.filter((row) => dead(row.name))) {
    if (kind === 'database') {
      if (await tryDrop(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)) cleared.databases.push(name);
    } else if (await tryDrop(`DROP TABLESPACE IF EXISTS ${quoteIdent(name)}`)) {
      if (location) removeRamFolder(location);
      cleared.tablespaces.push(name);
    }
  }
  let folders: string[] = [];
  try {
    folders = fs.readdirSync(RAM_PARENT).filter((entry) => entry.startsWith(RAM_PREFIX) && dead(entry));
  } catch {
    folders = [];
  }
  for (const folder of folders) {
    try {
      removeRamFolder(path.join(RAM_PARENT, folder));
      cleared.folders.push(path.join(RAM_PARENT, folder));
    } catch {
      // another user's folder: theirs to clear
    }
  }
  return cleared;
}

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

/**
 * A throw-away tablespace in /dev/shm for a run's copies, when the server runs on this
 * machine, we are superuser on it and may hand a folder to the server's account.
 * Undefined when any of that is not so (copies then go to the default tablespace).
 */
export async function makeRamTablespace(admin: pg.Client, url: string, facts: Pick<TargetSurvey, 'superuser' | 'dataDirectory'>, ownerPid: number): Promise<{ name: string; folder: string } | undefined> {
  if (!isLocalUrl(url) || !facts.superuser || !facts.dataDirectory || !tmpfsHasRoom()) return undefined;
  const server = fs.statSync(facts.dataDirectory, { throwIfNoEntry: false });
  if (!server) return undefined;
  const ours = process.geteuid?.() ?? -1;
  if (ours !== 0 && ours !== server.uid) return undefined;
  const folder = fs.mkdtempSync(path.join(RAM_PARENT, `${RAM_PREFIX}${ownerPid}-`));
  const name = tablespaceName(ownerPid);
  try {
    fs.chmodSync(folder, 0o700);
    if (ours === 0) fs.chownSync(folder, server.uid, server.gid);
    await admin.query(`CREATE TABLESPACE ${quoteIdent(name)} LOCATION ${quoteLiteral(folder)}`);
    return { name, folder };
  } catch {
    // A server in a container sees another /dev/shm, a hardened one refuses: stay on disk.
    removeRamFolder(folder);
    return undefined;
  }
}

export async function dropRamTablespace(admin: pg.Client, tablespace: { name: string; folder: string }): Promise<void> {
  await admin.query(`DROP TABLESPACE IF EXISTS ${quoteIdent(tablespace.name)}`);
  removeRamFolder(tablespace.folder);
}

/** A database error's SQLSTATE, if it has one. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
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

export interface TestCopy {
  name: string;
  url: string;
}

/** How the snapshot of a target that background workers stay connected to was made (pg_dump), and why. */
export interface DumpedSnapshot {
  /** Who blocks TEMPLATE copies of the target, in words. */
  workers: string;
  durationMs: number;
  /** Why pg_cron's scheduler was not moved off the target instead, when it is one of them. */
  notMoved?: string;
}

/** How a run's copies were set up; `adminDatabase`: the database admin connections use (`postgres`, else `template1`). */
export type OpenedCopies = ({ kind: 'copies'; copies: TestCopies } | { kind: 'blocked'; reason: string }) & { adminDatabase: string };

export interface OpenCopiesOptions {
  /** The database the copies are made from. */
  url: string;
  /**
   * How many copies the run will make. With more than one, the target is also copied
   * once, and the later copies are made from that snapshot: the target is free again at
   * once (a session that connects to it meanwhile blocks nothing). The first copies do
   * not wait for the snapshot; it is dropped when the last copy is made.
   */
  copies: number;
  /** Admin connections for making and dropping copies at the same time. */
  connections: number;
  ownerPid?: number;
  onCleared?: (cleared: Cleared) => void;
  /** Finds pg_dump and psql for a target that only a dump can copy. */
  config: Config;
  /** Aborting it ends a pg_dump under way. */
  signal?: AbortSignal;
}

/**
 * The copies of one run: made on demand from the target (or the run's snapshot of it),
 * each dropped when its file is done; `close()` drops whatever is left, also when called
 * again or at the same time from a signal handler.
 */
export class TestCopies {
  private counter = 0;
  /** Copies made so far (the snapshot not counted). */
  private made = 0;
  private snapshot: string | undefined;
  private snapshotRetired = false;
  private readonly live = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private closing: Promise<void> = Promise.resolve();
  private closed = false;
  private next = 0;
  private readonly queues = new Map<pg.Client, Promise<unknown>>();

  private constructor(
    private readonly url: string,
    private readonly admins: pg.Client[],
    private source: string,
    private readonly expected: number,
    private readonly clause: string,
    private readonly settings: readonly string[],
    private readonly ownerPid: number,
    private tablespaceLeft: { name: string; folder: string } | undefined,
    /** The server's max_connections. */
    readonly maxConnections: number,
  ) {
    this.ram = tablespaceLeft !== undefined;
  }

  /** True when the copies live in a RAM tablespace. */
  readonly ram: boolean;

  /** Set when the snapshot was made with pg_dump (workers stay connected to the target). */
  dumped: DumpedSnapshot | undefined = undefined;

  /** The pid of pg_cron's scheduler restarted to free the target for the snapshot. */
  cronRestarted: number | undefined = undefined;

  /** Connections this run holds for making and dropping copies. */
  get adminConnections(): number {
    return this.admins.length;
  }

  /** Prepares a run's copies, or says why the target cannot be copied. */
  static async open(options: OpenCopiesOptions): Promise<OpenedCopies> {
    const ownerPid = options.ownerPid ?? process.pid;
    // One connection more for the snapshot, so the first copies do not queue behind it.
    const count = Math.max(1, options.connections) + (options.copies > 1 ? 1 : 0);
    const admins = await Promise.all(Array.from({ length: count }, () => connectAdmin(options.url)));
    const admin = admins[0] as pg.Client;
    const adminDatabase = admin.database ?? 'postgres';
    let copies: TestCopies | undefined;
    try {
      const target = parseUrl(options.url).database ?? (await currentDatabase(options.url));
      // Clearing what crashed runs left goes on beside the questions, on its own connection.
      const asking = admins[1] ?? admin;
      const clear = () => clearDeadTestDatabases(admin, options.url, { selfPid: ownerPid });
      const ask = () => surveyTarget(asking, target);
      const [cleared, survey] = asking === admin ? [await clear(), await ask()] : await Promise.all([clear(), ask()]);
      options.onCleared?.(cleared);
      if (survey.refusal) {
        await endAll(admins);
        return { kind: 'blocked', reason: survey.refusal, adminDatabase };
      }
      // Client sessions may end, and are the user's to end; background workers never do.
      const workers = survey.sessions.filter(isResidentWorker);
      const clients = survey.sessions.filter((session) => !isResidentWorker(session));
      if (clients.length > 0) {
        await endAll(admins);
        return { kind: 'blocked', reason: describeBlockers(target, clients), adminDatabase };
      }
      const tablespace = await makeRamTablespace(admin, options.url, survey, ownerPid);
      const clause = `${tablespace ? ` TABLESPACE ${quoteIdent(tablespace.name)}` : ''}${survey.version >= 150000 ? ' STRATEGY FILE_COPY' : ''}`;
      copies = new TestCopies(options.url, admins, target, options.copies, clause, survey.settings, ownerPid, tablespace, survey.maxConnections);
      if (workers.length === 0) {
        if (options.copies > 1) copies.takeSnapshot();
        return { kind: 'copies', copies, adminDatabase };
      }
      // pg_cron's scheduler, the usual worker, steps aside for the snapshot; others only a dump gets round.
      let notMoved: string | undefined;
      if (workers.every((worker) => worker.kind === CRON_LAUNCHER)) {
        const moved = await copies.snapshotFreeOfCronLauncher(survey.dataDirectory);
        if (moved.freed) return { kind: 'copies', copies, adminDatabase };
        notMoved = moved.reason;
      }
      const notDumpable = await whyNotDumpable(options.url, target);
      const failed = notDumpable ?? (await copies.dumpSnapshot(options.config, survey, workers, options.signal, notMoved));
      if (failed) {
        await copies.close();
        const why = notDumpable ?? `${target} is in use by ${describeWorkers(workers)}, which never disconnects, and copying it with pg_dump failed: ${failed}`;
        return { kind: 'blocked', reason: notMoved ? `${why} (${notMoved})` : why, adminDatabase };
      }
      return { kind: 'copies', copies, adminDatabase };
    } catch (error) {
      if (copies) await copies.close();
      else await endAll(admins);
      const state = sqlState(error);
      // 55006: a session connected between our look and the copy; 42501: not allowed to copy.
      if (state === '55006') return { kind: 'blocked', reason: await whoConnected(options.url, (error as Error).message), adminDatabase };
      if (state === '42501') return { kind: 'blocked', reason: (error as Error).message, adminDatabase };
      throw error;
    }
  }

  /**
   * Runs `work` on the next admin connection, after what that connection is already
   * doing: a pg client takes one query at a time.
   */
  private onAdmin<T>(work: (client: pg.Client) => Promise<T>, chosen?: pg.Client): Promise<T> {
    const client = chosen ?? (this.admins[this.next % this.admins.length] as pg.Client);
    if (!chosen) this.next += 1;
    const previous = this.queues.get(client) ?? Promise.resolve();
    const done = previous.then(() => work(client));
    this.queues.set(client, done.catch(() => undefined));
    return done;
  }

  private async copy(n: number, chosen?: pg.Client): Promise<string> {
    const name = this.claim(n);
    await this.onAdmin((client) => this.createCopy(client, name), chosen);
    return name;
  }

  /** The name of copy `n`, to be dropped by close() whatever happens. */
  private claim(n: number): string {
    if (this.closed) throw new Error('test copies are closed');
    const name = cloneName(this.ownerPid, n);
    this.live.add(name);
    return name;
  }

  private async createCopy(client: pg.Client, name: string): Promise<void> {
    // The source is read when the copy starts: the snapshot once it exists.
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(this.source)}${this.clause}`);
    for (const statement of this.settings) await client.query(statement.replaceAll('%DB%', quoteIdent(name)));
  }

  /**
   * Makes the snapshot (copy 0) with pg_cron's scheduler moved off the target for the
   * moment of the copy (cluster/cron-launcher.ts), and makes it the source of every
   * copy: the target is copied once, by TEMPLATE, at TEMPLATE's speed. Returns why not
   * when the scheduler could not be moved (nothing was made then).
   */
  async snapshotFreeOfCronLauncher(dataDirectory: string | undefined): Promise<FreedResult<string>> {
    const name = this.claim(0);
    const target = this.source;
    const moved = await this.track(this.onAdmin(
      (client) => withDatabaseFreeOfCronLauncher(client, target, () => this.createCopy(client, name), { dataDirectory }),
      this.admins[0],
    ));
    if (!moved.freed) {
      this.live.delete(name);
      return moved;
    }
    this.snapshot = name;
    this.source = name;
    this.cronRestarted = moved.restarted;
    this.retireSnapshot();
    return { ...moved, value: name };
  }

  /**
   * Makes the snapshot (copy 0) with pg_dump — for a target TEMPLATE cannot copy, as
   * background workers stay connected to it — and makes it the source of every copy.
   * Returns why not, when it could not (the half-made snapshot is dropped).
   */
  async dumpSnapshot(config: Config, survey: TargetSurvey, workers: readonly ConnectedSession[], signal?: AbortSignal, notMoved?: string): Promise<string | undefined> {
    const started = performance.now();
    const name = cloneName(this.ownerPid, 0);
    this.live.add(name);
    const failed = await this.track(this.onAdmin(async (client) => {
      await client.query(createEmptyDatabaseSql(name, survey.locale, this.clause));
      return dumpInto(config, { from: this.url, into: urlForDatabase(this.url, name), serverVersion: survey.versionText, superuser: survey.superuser, signal });
    }, this.admins[0]));
    if (failed) {
      await this.track(this.dropNamed(name));
      return failed;
    }
    this.snapshot = name;
    this.source = name;
    this.dumped = { workers: describeWorkers(workers), durationMs: performance.now() - started, notMoved };
    this.retireSnapshot();
    return undefined;
  }

  /** Copies the target once (copy 0); later copies come from it. If it fails, they come from the target. */
  private takeSnapshot(): void {
    // On the last connection; the first copies go round the others first.
    const client = this.admins[this.admins.length - 1];
    this.next = 0;
    void this.track(this.copy(0, client)).then((name) => {
      this.snapshot = name;
      this.source = name;
      this.retireSnapshot();
    }, () => undefined);
  }

  /** Drops the snapshot once the last copy is made. */
  private retireSnapshot(): void {
    if (!this.snapshot || this.snapshotRetired || this.made < this.expected) return;
    this.snapshotRetired = true;
    void this.track(this.dropNamed(this.snapshot)).catch(() => undefined);
  }

  /** A new copy of the source, for one test file. */
  async make(): Promise<TestCopy> {
    this.counter += 1;
    const name = await this.track(this.copy(this.counter));
    this.made += 1;
    this.retireSnapshot();
    return { name, url: urlForDatabase(this.url, name) };
  }

  /** Drops a copy (sessions still in it are ended). */
  drop(copy: TestCopy): Promise<void> {
    return this.track(this.dropNamed(copy.name));
  }

  private async dropNamed(name: string): Promise<void> {
    await this.onAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    this.live.delete(name);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Drops every copy, the snapshot and the RAM tablespace, and closes the connections. Safe to call more than once. */
  close(): Promise<void> {
    this.closing = this.closing.then(() => this.closeNow());
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    await Promise.allSettled([...this.live].map((name) => this.dropNamed(name)));
    // Whatever is left: the connections did not survive (a signal): one new one does it.
    if (this.live.size > 0 || this.tablespaceLeft) {
      await this.keepOneLiveAdmin();
      for (const name of [...this.live]) await this.dropNamed(name);
      const tablespace = this.tablespaceLeft;
      if (tablespace) await this.onAdmin((client) => dropRamTablespace(client, tablespace));
      this.tablespaceLeft = undefined;
    }
    await endAll(this.admins.splice(0));
  }

  /** Leaves one admin connection that works (a signal may have ended the others): the first, or a new one. */
  private async keepOneLiveAdmin(): Promise<void> {
    const first = this.admins[0];
    const spare = this.admins.splice(1);
    void endAll(spare);
    this.next = 0;
    if (first && (await this.onAdmin((client) => client.query('SELECT 1')).then(() => true, () => false))) return;
    if (first) void endAll([first]);
    this.admins.splice(0, this.admins.length, await connectAdmin(this.url));
  }
}

/**
 * Why a target that only pg_dump can copy (workers stay connected) is not copied that
 * way, or undefined: it has the pg_cron extension, which PostgreSQL allows only in
 * `cron.database_name`, so a copy would lack the `cron` schema its tests may use.
 */
async function whyNotDumpable(url: string, target: string): Promise<string | undefined> {
  const hasPgCron = await withClient(url, async (client) =>
    (await client.query<{ found: boolean }>("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') AS found")).rows[0]?.found === true);
  if (!hasPgCron) return undefined;
  return `${target} has the pg_cron extension, which PostgreSQL allows only in cron.database_name (${target}), so no copy of it could have pg_cron, and pg_cron's scheduler stays connected to it`;
}

/**
 * A session connected to the target between our look and the copy (PostgreSQL's 55006):
 * who it is, in the same words as when it was there from the start; PostgreSQL's own
 * message when it is gone again or cannot be asked.
 */
async function whoConnected(url: string, postgresSays: string): Promise<string> {
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

function endAll(clients: readonly pg.Client[]): Promise<unknown> {
  return Promise.all(clients.map((client) => client.end().catch(() => undefined)));
}

/** The database a URL without one connects to (libpq's default: the user's name). */
async function currentDatabase(url: string): Promise<string> {
  const client = await connect(url);
  try {
    return (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
  } finally {
    await client.end().catch(() => undefined);
  }
}

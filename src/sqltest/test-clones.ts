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
import { isProcessAlive } from '../base/pids.js';
import { removeBelow } from '../base/safe-remove.js';
import { tmpfsHasRoom } from '../cluster/ram-storage.js';
import { connect, isLocalUrl, parseUrl, quoteIdent, quoteLiteral } from '../pg/db.js';
import type { TargetSurvey } from './target-survey.js';

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

/** Ends admin connections, whatever state they are in. */
export function endAll(clients: readonly pg.Client[]): Promise<unknown> {
  return Promise.all(clients.map((client) => client.end().catch(() => undefined)));
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

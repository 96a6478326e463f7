/**
 * The databases of other git branches (`database branch`, src/branch/) that live next to
 * PG_DATABASE in the project cluster, as `PG_DATABASE@BRANCH`, each labelled by its
 * `COMMENT ON DATABASE`. A fresh `postgres-init`, `database init` or `deploy` keeps them
 * (SPEC §17: wipes and deploys touch the current branch's database only): instead of a
 * new cluster, PG_DATABASE alone is made anew in the running one, keeping its label.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { requireWorkingDir } from '../base/config.js';
import { EnvironmentError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { quoteIdent, quoteLiteral, withClient } from '../pg/db.js';
import { initCluster, type ClusterSetup } from './cluster.js';
import { runningCluster, type ClusterConnection, type ProjectCluster } from './cluster-connection.js';
import { clusterLayout } from './cluster-layout.js';
import { withDatabaseFreeOfCronLauncher } from './cron-launcher.js';
import { BRANCH_LABEL_PREFIX } from './branch-label.js';


/** The labelled databases of other branches next to `database`. */
export async function otherBranchDatabases(admin: pg.ClientBase, database: string): Promise<string[]> {
  const prefix = `${database}@`;
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database
      WHERE left(datname, length($1)) = $1 AND left(coalesce(shobj_description(oid, 'pg_database'), ''), length($2)) = $2 ORDER BY datname`,
    [prefix, BRANCH_LABEL_PREFIX],
  );
  return rows.map((row) => row.datname);
}

/**
 * Where the database a fresh start replaces is kept, beside the branches (one generation,
 * as `data.previous` for a whole cluster): `database restore --previous` swaps it back.
 * Undefined when the name would not fit PostgreSQL's 63 bytes.
 */
export function previousDatabaseName(database: string): string | undefined {
  const name = `${database}~previous`;
  return Buffer.byteLength(name) <= 63 ? name : undefined;
}

async function databaseExists(admin: pg.ClientBase, database: string): Promise<boolean> {
  return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rows.length > 0;
}

async function dataDirectory(admin: pg.ClientBase): Promise<string | undefined> {
  return (await admin.query<{ data: string }>("SELECT current_setting('data_directory') AS data")).rows[0]?.data;
}

/** Ends the client sessions in `databases` (not our own). */
async function endSessions(admin: pg.ClientBase, databases: readonly string[]): Promise<void> {
  await admin.query(
    `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = ANY($1) AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    [databases],
  );
}

/** Runs `work` with no session and no pg_cron launcher in `database`; refuses in one line when it cannot. */
async function withDatabaseFree(admin: pg.ClientBase, database: string, doing: string, work: () => Promise<void>): Promise<void> {
  const freed = await withDatabaseFreeOfCronLauncher(admin, database, work, { dataDirectory: await dataDirectory(admin) });
  if (!freed.freed) throw new EnvironmentError(`cannot ${doing}: ${freed.reason}`);
}

/**
 * Makes `database` empty again, with its comment (its branch label). The database it
 * replaces is kept as previousDatabaseName (the one kept before is dropped); dropped only
 * when that name does not fit. Returns where it was kept.
 */
async function recreateDatabase(admin: pg.ClientBase, database: string): Promise<string | undefined> {
  const { rows } = await admin.query<{ comment: string | null; version: string }>(
    `SELECT shobj_description(oid, 'pg_database') AS comment, current_setting('server_version_num') AS version
       FROM pg_database WHERE datname = $1`,
    [database],
  );
  const facts = rows[0];
  const previous = previousDatabaseName(database);
  let keptAs: string | undefined;
  await withDatabaseFree(admin, database, `make ${database} anew`, async () => {
    await endSessions(admin, previous ? [database, previous] : [database]);
    if (!facts) return;
    if (!previous) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
      return;
    }
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(previous)}`);
    await admin.query(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(previous)}`);
    keptAs = previous;
  });
  const strategy = Number(facts?.version ?? 0) >= 150000 ? ' STRATEGY FILE_COPY' : '';
  await admin.query(`CREATE DATABASE ${quoteIdent(database)}${strategy}`);
  if (facts?.comment) await admin.query(`COMMENT ON DATABASE ${quoteIdent(database)} IS ${quoteLiteral(facts.comment)}`);
  return keptAs;
}

/**
 * `database restore --previous` in a cluster whose fresh starts keep the branches: swaps
 * the kept database and PG_DATABASE in one transaction (three renames), so the one it
 * replaces becomes the previous in turn. Undefined when the running cluster keeps none.
 */
export async function swapPreviousDatabase(config: ProjectCluster): Promise<{ connection: ClusterConnection; replacedTo: string } | undefined> {
  const running = runningCluster(config);
  if (!running) return undefined;
  const database = running.layout.database;
  const previous = previousDatabaseName(database);
  if (!previous) return undefined;
  return withClient(running.url, async (admin) => {
    if (!(await databaseExists(admin, previous))) return undefined;
    const parked = `${database}~swap`;
    await withDatabaseFree(admin, database, `bring back ${previous}`, async () => {
      await endSessions(admin, [database, previous]);
      await admin.query('BEGIN');
      try {
        if (await databaseExists(admin, database)) await admin.query(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(parked)}`);
        await admin.query(`ALTER DATABASE ${quoteIdent(previous)} RENAME TO ${quoteIdent(database)}`);
        if (await databaseExists(admin, parked)) await admin.query(`ALTER DATABASE ${quoteIdent(parked)} RENAME TO ${quoteIdent(previous)}`);
        await admin.query('COMMIT');
      } catch (error) {
        await admin.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    return { connection: running, replacedTo: `database ${previous}` };
  }, { database: 'postgres' });
}

/**
 * Whether a stopped cluster's data folder may hold branch databases: more databases than
 * template0, template1, postgres and PG_DATABASE. Cheap (a directory listing), so a fresh
 * start of an ordinary cluster does not pay for starting it first.
 */
function mayHoldBranches(dataDir: string): boolean {
  try {
    return fs.readdirSync(path.join(dataDir, 'base')).length > 4;
  } catch {
    return false;
  }
}

/**
 * A fresh start of a running cluster that holds other branches' databases: the cluster is
 * kept (restarted only if its settings changed) and PG_DATABASE alone is made anew.
 * Undefined when there is nothing to keep (no running cluster, no other branch): the
 * caller makes a fresh cluster as usual.
 */
export async function freshDatabaseKeepingBranches(config: ClusterSetup, log: Logger): Promise<ClusterConnection | undefined> {
  const workingDir = requireWorkingDir(config);
  let running = runningCluster(config, workingDir);
  if (!running && mayHoldBranches(clusterLayout(config, workingDir).dataDir)) {
    // Stopped (a reboot): started as it is to look; a fresh start replaces it if nothing is to be kept.
    await initCluster(config, log, { reuse: true, workingDir, spare: false });
    running = runningCluster(config, workingDir);
  }
  if (!running) return undefined;
  const database = running.layout.database;
  const others = await withClient(running.url, (admin) => otherBranchDatabases(admin, database), { database: 'postgres' }).catch(() => []);
  if (others.length === 0) return undefined;
  const connection = await initCluster(config, log, { reuse: true, workingDir });
  const keptAs = await withClient(connection.url, (admin) => recreateDatabase(admin, database), { database: 'postgres' });
  const kept = keptAs ? `; the one it replaced is kept as ${keptAs} until the next fresh start: \`database restore --previous\` brings it back` : '';
  log.info(`kept the databases of ${others.length} other branch${others.length === 1 ? '' : 'es'} (database branch list); made ${database} anew${kept}`);
  return connection;
}

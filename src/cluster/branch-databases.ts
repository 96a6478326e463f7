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
import type { Config } from '../base/config.js';
import { UserError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { quoteIdent, quoteLiteral, withClient } from '../pg/db.js';
import { initCluster } from './cluster.js';
import { runningCluster, type ClusterConnection } from './cluster-connection.js';
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

/** Drops `database` (sessions ended, pg_cron's launcher moved aside) and makes it empty again, with its comment. */
async function recreateDatabase(admin: pg.ClientBase, database: string): Promise<void> {
  const { rows } = await admin.query<{ comment: string | null; version: string; data: string | null }>(
    `SELECT shobj_description(oid, 'pg_database') AS comment, current_setting('server_version_num') AS version,
            current_setting('data_directory') AS data
       FROM pg_database WHERE datname = $1`,
    [database],
  );
  const facts = rows[0];
  const dropped = await withDatabaseFreeOfCronLauncher(
    admin,
    database,
    async () => {
      await admin.query(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, [database]);
      if (facts) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
    },
    { dataDirectory: facts?.data ?? undefined },
  );
  if (!dropped.freed) throw new UserError(`cannot make ${database} anew: ${dropped.reason}`);
  const strategy = Number(facts?.version ?? 0) >= 150000 ? ' STRATEGY FILE_COPY' : '';
  await admin.query(`CREATE DATABASE ${quoteIdent(database)}${strategy}`);
  if (facts?.comment) await admin.query(`COMMENT ON DATABASE ${quoteIdent(database)} IS ${quoteLiteral(facts.comment)}`);
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
export async function freshDatabaseKeepingBranches(config: Config, log: Logger, workingDir: string): Promise<ClusterConnection | undefined> {
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
  await withClient(connection.url, (admin) => recreateDatabase(admin, database), { database: 'postgres' });
  log.info(`kept the databases of ${others.length} other branch${others.length === 1 ? '' : 'es'} (database branch list); made ${database} anew`);
  return connection;
}

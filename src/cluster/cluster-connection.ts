/**
 * How to reach a project cluster: its URL and the variables postgres-init exports, and
 * the running cluster of a working dir. Apart from cluster.ts (which starts and stops
 * clusters) so that commands given a URL resolve their target without loading it.
 */
import fs from 'node:fs';
import type { Config } from '../base/config.js';
import { clusterLayout, clusterUrl, type ClusterLayout, type LayoutSettings } from './cluster-layout.js';
import { lookupUid, serverUser, type ServerAccount } from './os-user.js';
import { dataVersion, runningServer } from './server-process.js';
import { readToolJson, writeToolFile } from './tool-files.js';

export interface ClusterConnection {
  layout: ClusterLayout;
  user: string;
  url: string;
  /** The variables postgres-init exports (SPEC §4 step 7), in order. */
  exports: Array<[string, string]>;
}

export function connectionFor(config: ServerAccount & Pick<Config, 'pgUrlVar'>, layout: ClusterLayout, user = serverUser(config).name, urlVar = config.pgUrlVar): ClusterConnection {
  const url = clusterUrl(user, layout);
  return {
    layout,
    user,
    url,
    exports: [
      ['POSTGRESQL_HOST', layout.sockDir],
      ['POSTGRESQL_PORT', String(layout.port)],
      ['POSTGRESQL_USER', user],
      ['POSTGRESQL_DATABASE', layout.database],
      [urlVar, url],
    ],
  };
}

/** The major version of a cluster of ours, from its data (no connection needed), if it tells. */
export function clusterVersion(connection: Pick<ClusterConnection, 'layout'>): string | undefined {
  return dataVersion(connection.layout.dataDir);
}

/** How the project cluster was started: the database it was made for, by server pid. */
const SERVER_FILE = '.db-tool.server';

/** Notes which database the server of `pid` was started for (read back by `runningCluster`). */
export function recordServer(workingDir: string, pid: number, database: string): void {
  writeToolFile(workingDir, SERVER_FILE, `${JSON.stringify({ pid, database })}\n`);
}

/** The database the running server was started for, if the record is about that server. */
function recordedDatabase(workingDir: string, pid: number): string | undefined {
  const record = readToolJson(workingDir, SERVER_FILE);
  return record.pid === pid && typeof record.database === 'string' ? record.database : undefined;
}

export interface RunningCluster extends ClusterConnection {
  pid: number;
  /**
   * Where the configuration (PG_PORT, PG_DATABASE, the socket folder) disagrees with the
   * running server, one phrase each: the server's own files win.
   */
  disagreements: string[];
}

/** The settings that find the project's cluster and the account that runs it. */
export type ProjectCluster = LayoutSettings & ServerAccount;

/**
 * The running cluster of the working dir, if any, as its own files say how to reach it
 * (SPEC §4, turn 4): port and socket folder from postmaster.pid, the database from the
 * record its start left. A cluster started with `--env-file` (another PG_PORT) is found
 * by later commands without it.
 */
export function runningCluster(config: ProjectCluster, workingDir?: string): RunningCluster | undefined {
  const dir = workingDir ?? config.workingDir;
  if (!dir) return undefined;
  const configured = clusterLayout(config, dir);
  const server = runningServer(configured.dataDir);
  if (!server) return undefined;
  const layout: ClusterLayout = {
    ...configured,
    port: server.port ?? configured.port,
    sockDir: server.sockDir ?? configured.sockDir,
    database: recordedDatabase(dir, server.pid) ?? configured.database,
  };
  const disagreements: string[] = [];
  if (layout.port !== configured.port) disagreements.push(`it listens on port ${layout.port}, not ${configured.port} (PG_PORT)`);
  if (layout.sockDir !== configured.sockDir) disagreements.push(`its socket is in ${layout.sockDir}, not ${configured.sockDir}`);
  if (layout.database !== configured.database) disagreements.push(`it was started for database ${layout.database}, not ${configured.database} (PG_DATABASE)`);
  return { ...connectionFor(config, layout, dataDirOwner(config, layout.dataDir)), pid: server.pid, disagreements };
}

/** One line on how the running cluster differs from the configuration, or undefined. */
export function disagreementNote(cluster: RunningCluster): string | undefined {
  if (cluster.disagreements.length === 0) return undefined;
  return `the running cluster of ${cluster.layout.workingDir} differs from the environment: ${cluster.disagreements.join('; ')}; using the running cluster`;
}

/** The superuser of a cluster is the account that made it (owner of the data folder). */
function dataDirOwner(config: ServerAccount, dataDir: string): string {
  const uid = fs.statSync(dataDir).uid;
  const me = serverUser(config);
  if (me.uid === uid) return me.name;
  return lookupUid(uid)?.name ?? me.name;
}

/** `database status`'s view of the project's cluster: running or not, where, which version, how big. */
import fs from 'node:fs';
import path from 'node:path';
import { requireWorkingDir } from '../base/config.js';
import { withClient } from '../pg/db.js';
import { clusterLayout } from './cluster-layout.js';
import { disagreementNote, runningCluster, type ProjectCluster } from './cluster-connection.js';
import { hasPreviousCluster } from './previous-cluster.js';
import { dataVersion, runningServer } from './server-process.js';

export interface ClusterStatus {
  workingDir: string;
  dataDir: string;
  running: boolean;
  pid: number | null;
  url: string | null;
  database: string;
  /** Major version from PG_VERSION; the full server version when running. */
  postgresVersion: string | null;
  /** Bytes used by the data folder. */
  dataSize: number | null;
  /** Where the environment disagrees with the running cluster (its own files win). */
  notes: string[];
  /** `data.previous`: the cluster the last wipe replaced, if one is kept. */
  previousDataDir: string | null;
}

function folderSize(dir: string): number {
  let total = 0;
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) total += fs.statSync(full, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  try {
    walk(dir);
  } catch {
    return total;
  }
  return total;
}

/** Reads the state of the project's cluster; changes nothing. */
export async function readClusterStatus(config: ProjectCluster): Promise<ClusterStatus> {
  const layout = clusterLayout(config, requireWorkingDir(config));
  const server = runningServer(layout.dataDir);
  const connection = server ? runningCluster(config) : undefined;
  const note = connection && disagreementNote(connection);
  let version: string | null = dataVersion(layout.dataDir) ?? null;
  if (connection) {
    version = await withClient(connection.url, async (client) => (await client.query('SHOW server_version')).rows[0].server_version as string, { database: 'postgres' }).catch(() => version);
  }
  const exists = fs.existsSync(layout.dataDir);
  return {
    workingDir: layout.workingDir,
    dataDir: layout.dataDir,
    running: Boolean(server),
    pid: server?.pid ?? null,
    url: connection?.url ?? null,
    database: connection?.layout.database ?? layout.database,
    postgresVersion: version,
    dataSize: exists ? folderSize(layout.dataDir) : null,
    notes: note ? [note] : [],
    previousDataDir: hasPreviousCluster(layout) ? layout.previousDir : null,
  };
}

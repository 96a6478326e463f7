/**
 * How to reach a project cluster: its URL and the variables postgres-init exports, and
 * the running cluster of a working dir. Apart from cluster.ts (which starts and stops
 * clusters) so that commands given a URL resolve their target without loading it.
 */
import fs from 'node:fs';
import type { Config } from '../base/config.js';
import { clusterLayout, clusterUrl, type ClusterLayout } from './cluster-layout.js';
import { lookupUid, serverUser } from './os-user.js';
import { runningServer } from './server-process.js';

export interface ClusterConnection {
  layout: ClusterLayout;
  user: string;
  url: string;
  /** The variables postgres-init exports (SPEC §4 step 7), in order. */
  exports: Array<[string, string]>;
}

export function connectionFor(config: Config, layout: ClusterLayout, user = serverUser(config).name, urlVar = config.pgUrlVar): ClusterConnection {
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

/** The running cluster of the working dir, if any. */
export function runningCluster(config: Config, workingDir?: string): ClusterConnection | undefined {
  const dir = workingDir ?? config.workingDir;
  if (!dir) return undefined;
  const layout = clusterLayout(config, dir);
  if (!runningServer(layout.dataDir)) return undefined;
  return connectionFor(config, layout, dataDirOwner(config, layout.dataDir));
}

/** The superuser of a cluster is the account that made it (owner of the data folder). */
function dataDirOwner(config: Config, dataDir: string): string {
  const uid = fs.statSync(dataDir).uid;
  const me = serverUser(config);
  if (me.uid === uid) return me.name;
  return lookupUid(uid)?.name ?? me.name;
}

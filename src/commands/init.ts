import { initCluster, type ClusterConnection } from '../cluster/cluster.js';
import { requireWorkingDir, type Config } from '../base/config.js';
import type { Logger } from '../base/log.js';

export interface InitCommandOptions {
  reuse?: boolean;
}

/** `postgres-init` / `database init`: start the project's cluster. */
export async function initCommand(config: Config, log: Logger, options: InitCommandOptions = {}): Promise<ClusterConnection> {
  const workingDir = requireWorkingDir(config);
  return initCluster(config, log, { reuse: options.reuse ?? config.reuse, workingDir });
}

/** `export NAME='value'` lines for `eval` (and for the sourced postgres-init); always single-quoted. */
export function formatExports(connection: ClusterConnection): string {
  return connection.exports.map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'\n`).join('');
}

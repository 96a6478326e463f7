/** `database status [--json]`: the project's cluster, and its migrations when it runs; changes nothing. */
import type { Config } from '../base/config.js';
import { readClusterStatus, type ClusterStatus } from '../cluster/cluster-status.js';
import { readMigrationSummary, type MigrationSummary } from '../migrations/migration-status.js';

export interface StatusReport extends ClusterStatus {
  migrations: MigrationSummary | null;
}

export async function statusCommand(config: Config): Promise<StatusReport> {
  const { notes, previousDataDir, ...cluster } = await readClusterStatus(config);
  const migrations = cluster.url ? await readMigrationSummary(cluster.url, config.migrationDir).catch(() => null) : null;
  // In this order: it is the order of `--json`'s keys.
  return { ...cluster, migrations, notes, previousDataDir };
}

/** `migrator init` (SPEC §7): the hectic bundle applied to a database, or its SQL shown. */
import type { Logger } from '../base/log.js';
import { bundleSql, type BundleResult } from '../deploy/bundle.js';
import { installBundle } from '../migrations/migrator-init.js';

export function migratorInitCommand(log: Logger, url: string): Promise<BundleResult> {
  return installBundle(log, url);
}

/** `migrator init --dry-run`: the SQL it would apply (connects to nothing). */
export function migratorInitSqlCommand(): string {
  return bundleSql();
}

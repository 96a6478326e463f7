import { applyBundle, type BundleResult } from '../deploy/bundle.js';
import { withClient } from '../pg/db.js';
import type { Logger } from '../base/log.js';

/** `migrator init`: applies the hectic bundle to the database (idempotent, one transaction). */
export async function migratorInitCommand(log: Logger, url: string): Promise<BundleResult> {
  return withClient(url, (client) => applyBundle(client, log));
}

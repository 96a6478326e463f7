import { applyBundle, type BundleResult } from '../deploy/bundle.js';
import { withClient } from '../pg/db.js';
import type { Logger } from '../base/log.js';

/** Applies the hectic bundle to the database at `url` (idempotent, one transaction): `migrator init`. */
export async function installBundle(log: Logger, url: string): Promise<BundleResult> {
  return withClient(url, (client) => applyBundle(client, log));
}

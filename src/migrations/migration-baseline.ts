/**
 * The baseline of a database built from the sources (SPEC §5 deploy): the sources stand
 * for every migration on disk, so hydrate records them in hectic.migration, marked
 * `baseline`. `migrate status` then says applied, `migrate up` after a deploy has nothing
 * to do, and a migration created afterwards is pending.
 */
import fs from 'node:fs';
import type { BaselineMigration } from '../deploy/hydrate.js';
import { isDbToolError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { readMigrations } from './migration-files.js';

/**
 * The migrations in `migrationDir` as a baseline; none when there is no folder. A
 * malformed folder does not stop a deploy: it is reported and no baseline is recorded
 * (`migrate` refuses that folder anyway, with the reason).
 */
export function baselineFromDisk(migrationDir: string | undefined, log: Logger): BaselineMigration[] {
  if (!migrationDir || !fs.statSync(migrationDir, { throwIfNoEntry: false })?.isDirectory()) return [];
  try {
    return readMigrations(migrationDir).map(({ name, hash }) => ({ name, hash }));
  } catch (error) {
    if (!isDbToolError(error)) throw error;
    log.warn(`no migration baseline recorded: ${error.message}`);
    return [];
  }
}

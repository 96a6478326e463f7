/**
 * Where DB1 of `database diff` came from, in one line of the report (SPEC §17). A
 * backup of a deployed project holds the sources with every migration recorded as a
 * baseline, never run: diffing it compares the sources with themselves, and the report
 * must say so rather than look like proof. Told by the backup's facts and by the
 * migration history in the restored database, read before `migrate up all` adds to it.
 */
import type pg from 'pg';
import type { BackupInfo } from '../backup/backup-files.js';
import { plural } from '../base/text.js';

/** What hectic.migration holds: rows recorded as a baseline and rows of migrations that ran. */
export interface MigrationHistory {
  baseline: number;
  ran: number;
}

/** The history of the database `client` is connected to; undefined when it has no hectic.migration. */
export async function readMigrationHistory(client: pg.ClientBase): Promise<MigrationHistory | undefined> {
  const found = await client.query<{ found: boolean }>("SELECT to_regclass('hectic.migration') IS NOT NULL AS found");
  if (!found.rows[0]?.found) return undefined;
  // Bundles before 0.3.0 had no baseline column: their rows all ran.
  const counts = await client.query<{ baseline: string; total: string }>(
    "SELECT count(*) FILTER (WHERE (to_jsonb(m) ->> 'baseline')::boolean) AS baseline, count(*) AS total FROM hectic.migration AS m",
  );
  const baseline = Number(counts.rows[0]?.baseline ?? 0);
  return { baseline, ran: Number(counts.rows[0]?.total ?? 0) - baseline };
}

/** The history said in words: a deploy of the sources, a migrated database (a restore, a pull), or none. */
export function describeHistory(history: MigrationHistory | undefined): string {
  if (!history) return 'a database without a migration history (not built by db-tool: a restore or a pull from elsewhere)';
  if (history.ran === 0 && history.baseline > 0) {
    return `a deploy of the sources: its ${plural(history.baseline, 'migration')} ${history.baseline === 1 ? 'was' : 'were'} recorded as a baseline and never ran, so this compares the sources with themselves (database check proves the migrations)`;
  }
  if (history.ran === 0) return 'a database with an empty migration history';
  const baseline = history.baseline > 0 ? `, ${history.baseline} recorded as a baseline` : '';
  return `a database the migrations ran on (${plural(history.ran, 'migration')} applied${baseline}: a restore or a pull)`;
}

/** The report's provenance line: when and of what the backup was taken, and what its database is. */
export function describeOrigin(info: BackupInfo | undefined, history: MigrationHistory | undefined): string {
  const taken = info ? `a backup of ${info.database} taken ${info.createdAt}, ` : '';
  return `from ${taken}${describeHistory(history)}`;
}

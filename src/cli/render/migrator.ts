/** The migrator's listings: `list`, `migrate --dry-run`'s plan, `status`. */
import type { ListedMigration } from '../../commands/migrator-list.js';
import type { MigrationPlan } from '../../migrations/migration-plan.js';
import type { MigrationStatus } from '../../migrations/migration-status.js';

/** `NAME`, or `NAME: missing down.sql` (or `NAME: missing up.sql, down.sql`); `raw`: names only. */
export function formatList(migrations: readonly ListedMigration[], raw = false): string {
  return migrations
    .map((migration) => (raw || migration.missing.length === 0 ? migration.name : `${migration.name}: missing ${migration.missing.join(', ')}`))
    .map((line) => `${line}\n`)
    .join('');
}

/** The plan as `--dry-run` prints it: `up NAME` / `down NAME` per line, in order. */
export function formatPlan(plan: MigrationPlan): string {
  return plan.steps.map((step) => `${step.direction} ${step.name}\n`).join('');
}

/** What a line of `migrate status` says after its columns: baseline, out of order. */
function statusNote(entry: { baseline?: true; outOfOrder?: true }): string {
  if (entry.baseline) return 'baseline';
  if (entry.outOfOrder) return 'out of order';
  return '';
}

/**
 * `NAME  STATE  APPLIED_AT  [NOTE]` per line, in aligned columns (two spaces apart);
 * `-` for a migration never applied; NOTE marks baseline and out-of-order rows.
 */
export function formatStatusLines(
  entries: ReadonlyArray<Pick<MigrationStatus, 'name' | 'appliedAt'> & { state: string; baseline?: true; outOfOrder?: true }>,
): string {
  const rows = entries.map((entry) => [entry.name, entry.state, entry.appliedAt ?? '-', statusNote(entry)]);
  const widths = [0, 1, 2].map((column) => Math.max(0, ...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) => `${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`)
    .join('');
}

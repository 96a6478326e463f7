/**
 * The parts of the `database diff` report about migrations: the rehearsal of the pending
 * migrations on DB1 (a short table, also `migrator rehearse`'s) and the written migration
 * with its proof. Text and JSON (shape documented in the README). Pure.
 */
import type { SchemaComparison } from '../../diff/compare-schema.js';
import type { MigrationResult } from '../../diff/migration-report.js';
import type { ProofStep } from '../../diff/migration-writer/prove.js';
import { formatBytes, formatMs, type RehearsedMigration } from '../../diff/rehearsal.js';

const LOCK_NAMES: Record<string, string> = {
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
  ExclusiveLock: 'EXCLUSIVE',
  ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
  ShareLock: 'SHARE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  RowExclusiveLock: 'ROW EXCLUSIVE',
  RowShareLock: 'ROW SHARE',
  AccessShareLock: 'ACCESS SHARE',
};

export function lockName(mode: string): string {
  return LOCK_NAMES[mode] ?? mode;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text}  ` : text.padEnd(width + 2);
}

/**
 * The rehearsal table: one line per migration, locks on relations that existed before
 * it. The time comes last, so the columns line up the same way whatever it took.
 */
export function rehearsalLines(rehearsal: readonly RehearsedMigration[]): string[] {
  if (rehearsal.length === 0) return [];
  const rows = rehearsal.map((step) => ({
    step,
    locks: step.locks.filter((lock) => lock.existing).map((lock) => `${lock.relation} ${lockName(lock.mode)}`).join(', ') || '-',
    rewrote: step.rewritten.map((table) => `${table.relation} (${formatBytes(table.bytes)})`).join(', ') || '-',
  }));
  const nameWidth = Math.max(9, ...rows.map((row) => row.step.name.length));
  const lockWidth = Math.max(27, ...rows.map((row) => row.locks.length));
  const rewroteWidth = Math.max(7, ...rows.map((row) => row.rewrote.length));
  const lines = ["Rehearsal (pending migrations on the backup's data)", `  ${pad('migration', nameWidth)}${pad('locked (existing relations)', lockWidth)}${pad('rewrote', rewroteWidth)}time`];
  for (const { step, locks, rewrote } of rows) {
    lines.push(`  ${pad(step.name, nameWidth)}${pad(locks, lockWidth)}${pad(rewrote, rewroteWidth)}${formatMs(step.durationMs)}`);
    for (const flag of step.flags) lines.push(`  ! ${step.name}: ${flag}`);
  }
  return lines;
}

function remainingKeys(comparison: SchemaComparison | undefined): string[] {
  if (!comparison) return [];
  return [
    ...comparison.onlyInDb1.map((object) => `only in the migrated copy: ${object.key}`),
    ...comparison.onlyInDb2.map((object) => `missing in the migrated copy: ${object.key}`),
    ...comparison.changed.map((object) => `still different: ${object.key}`),
  ];
}

function proofLines(label: string, step: ProofStep | undefined): string[] {
  if (!step) return [];
  if (step.needsManualSteps) return [`  ${label}: not applied, it needs the manual steps below`];
  if (step.error) return [`  ${label}: ${step.error}`];
  if (step.converged) return [`  ${label}: applied, identical`];
  return [`  ${label}: applied, but not identical:`, ...remainingKeys(step.remaining).map((line) => `    ${line}`)];
}

/** The migration section: where it was written (or why not), its proof, hazards and manual steps. */
export function migrationLines(migration: MigrationResult | undefined): string[] {
  if (!migration) return [];
  const what = migration.name ? `migration ${migration.name}` : 'migration';
  const lines = [
    migration.proof.proved
      ? `Migration: ${migration.folder ? `written to ${migration.folder}` : 'proved'}`
      : `Migration: NOT written: the proof failed${migration.name ? ` (${what})` : ''}`,
    ...proofLines('up.sql on a copy of DB1, compared with DB2', migration.proof.up),
    ...proofLines('down.sql after it, compared with DB1', migration.proof.down),
  ];
  if (migration.hazards.length > 0) {
    lines.push('  hazards in up.sql:');
    for (const { statement, hazard } of migration.hazards) lines.push(`    ${statement}`, `      ${hazard}`);
  }
  for (const step of migration.manualSteps.up) lines.push(`  manual step (up): ${step}`);
  for (const step of migration.manualSteps.down) lines.push(`  manual step (down): ${step}`);
  return lines;
}

function proofJson(step: ProofStep | undefined): unknown {
  if (!step) return null;
  return {
    converged: step.converged,
    error: step.error ?? null,
    needsManualSteps: Boolean(step.needsManualSteps),
    remaining: step.remaining
      ? {
          onlyInDb1: step.remaining.onlyInDb1.map((object) => object.key),
          onlyInDb2: step.remaining.onlyInDb2.map((object) => object.key),
          changed: step.remaining.changed.map((object) => object.key),
        }
      : null,
  };
}

export function migrationJson(migration: MigrationResult | undefined): unknown {
  if (!migration) return null;
  return {
    name: migration.name ?? null,
    folder: migration.folder ?? null,
    proved: migration.proof.proved,
    proof: { up: proofJson(migration.proof.up), down: proofJson(migration.proof.down) },
    hazards: migration.hazards,
    manualSteps: migration.manualSteps,
    up: migration.up,
    down: migration.down,
  };
}

export function rehearsalJson(rehearsal: readonly RehearsedMigration[]): unknown {
  return rehearsal.map((step) => ({
    name: step.name,
    durationMs: Math.round(step.durationMs * 10) / 10,
    locks: step.locks,
    rewritten: step.rewritten,
    flags: step.flags,
  }));
}

/**
 * What `database diff` (and `check`'s migrations proof) found: the result core returns
 * and src/cli/render/diff-report.ts renders as text or JSON.
 */
import type { SchemaComparison } from './compare-schema.js';
import type { TableDataComparison } from './compare-data.js';
import type { MigrationResult } from './migration-report.js';
import type { RehearsedMigration } from './rehearsal.js';

/** Aspects of the schema a run compared (owners never are). */
export interface ComparedAspects {
  /** --privileges: grants and default privileges. */
  privileges: boolean;
  /** False with --ignore-column-order. */
  columnOrder: boolean;
}

/** What was compared and what came out of it. */
export interface DiffResult {
  identical: boolean;
  /** The backup DB1 was restored from. */
  backup: string;
  /** What DB1 was built on when not a backup (check: `an empty database`). */
  db1Start?: string;
  /** Where DB1's data came from, in words (the backup's history: a deploy of the sources, migrations that ran…). */
  db1Origin?: string;
  /** Migrations `migrate up all` applied to DB1. */
  migrationsApplied: string[];
  /** The hydrate entrypoint DB2 was built from. */
  entrypoint: string;
  mock: boolean;
  compared: ComparedAspects;
  /** --rows-file: where every differing row was written. */
  rowsFile?: string;
  schema: SchemaComparison;
  data: TableDataComparison[];
  /** What each applied migration did on DB1 (the rehearsal). */
  rehearsal?: RehearsedMigration[];
  /** --write-migration / --sql: the generated migration and its proof. */
  migration?: MigrationResult;
}

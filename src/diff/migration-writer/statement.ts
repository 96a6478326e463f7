/**
 * A statement of a generated migration and where it runs. migrator runs a migration in
 * one transaction; statements that cannot run in one, or that should not hold their
 * locks for the whole migration, go into segments that end it and open a new one.
 */

export type Segment =
  /** Before the main transaction, outside any transaction (ALTER TYPE … ADD VALUE). */
  | 'before'
  /** The main transaction. */
  | 'main'
  /** A transaction of its own after the main one (VALIDATE CONSTRAINT, SET NOT NULL). */
  | 'validate'
  /** After everything, outside any transaction (CREATE/DROP INDEX CONCURRENTLY). */
  | 'after';

export interface Statement {
  sql: string;
  segment: Segment;
  /** Why this statement is dangerous on production: data loss, a rewrite, an ACCESS EXCLUSIVE lock. */
  hazards: string[];
}

export interface MigrationPlan {
  statements: Statement[];
  /** What must be done by hand (a rename, an enum value removal): the plan cannot converge without it. */
  manualSteps: string[];
}

export function statement(sql: string, segment: Segment = 'main', hazards: string[] = []): Statement {
  return { sql: sql.trimEnd().endsWith(';') ? sql.trimEnd() : `${sql.trimEnd()};`, segment, hazards };
}

export const HAZARD = {
  dataLoss: (what: string): string => `data loss: ${what}`,
  rewrite: (table: string): string => `rewrites ${table} (and its indexes) under an ACCESS EXCLUSIVE lock`,
  accessExclusive: (table: string): string => `takes an ACCESS EXCLUSIVE lock on ${table} (blocks reads and writes until the transaction ends)`,
} as const;

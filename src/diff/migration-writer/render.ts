/**
 * The text of up.sql / down.sql from a plan. migrator runs a migration file inside a
 * transaction (BEGIN … \i up.sql … bookkeeping; COMMIT), and refuses one that ends it
 * (SPEC §17). A plan whose statements cannot all run in one transaction, or should not
 * keep their locks for the whole migration, is written as a no-transaction migration
 * (`-- db-tool: no-transaction` on its first line): its main part and its validations
 * each in a `BEGIN; … COMMIT;` of their own, enum values before and concurrent index
 * builds after them, outside any transaction. Pure.
 */
import { quoteLiteral } from '../../pg/db.js';
import type { MigrationPlan, Segment, Statement } from './statement.js';

/** Waiting longer than this for a lock fails the migration instead of queueing every query behind it. */
export const LOCK_TIMEOUT = '5s';

const SEGMENT_NOTES: Record<Exclude<Segment, 'main'>, string> = {
  before: 'Outside a transaction: an enum value must be committed before anything can use it.',
  validate: 'A transaction of its own: validating scans the table under SHARE UPDATE EXCLUSIVE (reads and writes go on); the NOT VALID constraints above held their stronger lock only briefly.',
  after: 'Outside a transaction: CREATE/DROP INDEX CONCURRENTLY builds without blocking writes and cannot run inside one.',
};

function renderStatement(item: Statement): string {
  return [...item.hazards.map((hazard) => `-- hazard: ${hazard}`), item.sql].join('\n');
}

export interface RenderOptions {
  /** First comment lines (what the file does, how it was made). */
  title: readonly string[];
  /**
   * A file that cannot do its job without its manual steps fails at once, saying so (a
   * down that cannot undo an added enum value must not let `migrate down` report it reverted).
   */
  failOnManualSteps?: boolean;
}

/** A statement that fails the migration with the manual steps as its message. */
function refusal(steps: readonly string[]): string {
  const message = `this migration needs manual steps first: ${steps.join('; ')}`;
  return `DO $manual$ BEGIN RAISE EXCEPTION '%', ${quoteLiteral(message)}; END $manual$;`;
}

export function renderMigration(plan: MigrationPlan, options: RenderOptions): string {
  const lines: string[] = options.title.map((line) => `-- ${line}`);
  for (const step of plan.manualSteps) lines.push(`-- manual step: ${step}`);
  if (options.failOnManualSteps && plan.manualSteps.length > 0) {
    lines.push(refusal(plan.manualSteps));
    if (plan.statements.length === 0) return `${lines.join('\n')}\n`;
  }
  if (plan.statements.length === 0) {
    lines.push('-- nothing to change');
    return `${lines.join('\n')}\n`;
  }
  const bySegment = (segment: Segment): Statement[] => plan.statements.filter((item) => item.segment === segment);
  const main = bySegment('main');
  if (main.length === plan.statements.length) {
    // One transaction: migrator's own.
    lines.push('', `SET lock_timeout = '${LOCK_TIMEOUT}';`, '', main.map(renderStatement).join('\n\n'));
    return `${lines.join('\n')}\n`;
  }
  lines.unshift(NO_TRANSACTION_MARKER);
  // Session level, so that it holds in every transaction below; migrator resets the session between migrations.
  lines.push('', `SET lock_timeout = '${LOCK_TIMEOUT}';`);
  const before = bySegment('before');
  if (before.length > 0) lines.push('', `-- ${SEGMENT_NOTES.before}`, ...before.map(renderStatement));
  if (main.length > 0) lines.push('', 'BEGIN;', main.map(renderStatement).join('\n\n'), 'COMMIT;');
  const validate = bySegment('validate');
  if (validate.length > 0) lines.push('', `-- ${SEGMENT_NOTES.validate}`, 'BEGIN;', validate.map(renderStatement).join('\n'), 'COMMIT;');
  const after = bySegment('after');
  if (after.length > 0) lines.push('', `-- ${SEGMENT_NOTES.after}`, after.map(renderStatement).join('\n'));
  return `${lines.join('\n')}\n`;
}

/** The first line of a migration migrator runs outside a transaction (SPEC §17). */
export const NO_TRANSACTION_MARKER = '-- db-tool: no-transaction';

/** Whether a migration file asks to run outside a transaction. */
export function runsOutsideTransaction(sql: string): boolean {
  return sql.startsWith(`${NO_TRANSACTION_MARKER}\n`);
}

/** Every `-- hazard:` of a plan, in order (for the report). */
export function planHazards(plan: MigrationPlan): Array<{ statement: string; hazard: string }> {
  return plan.statements.flatMap((item) => item.hazards.map((hazard) => ({ statement: item.sql.split('\n')[0] ?? '', hazard })));
}

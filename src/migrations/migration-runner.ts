/**
 * Executes a migration plan through ONE psql session (SPEC §7): user SQL keeps every
 * psql feature (\ir siblings, \if, -v variables), and 200 migrations cost one process.
 *
 * Per step the script runs (the tool's statements joined with `\;`, one round trip each)
 *
 *   BEGIN \; SET LOCAL hectic.migration_mode = 'on';   -- migrations may change immutable tables
 *   \i '/abs/path/up.sql'                                -- \ir inside resolves next to it
 *   \set ON_ERROR_STOP 1                                 -- a migration must not switch it off
 *   RESET ROLE … \; INSERT INTO hectic.migration … \; COMMIT \; BEGIN \; RESET ALL \; … \; SET LOCAL …
 *   \echo __dbtool_…_m-stepN__                           -- the step committed (read, not shown)
 *   \o  \set NAME 'value' …                             -- psql's own state, reset too
 *
 * Each migration starts from a clean session (SPEC §7), so `up all` behaves like
 * repeated `up 1`: what one migration sets for its session (search_path emptied by
 * pg_dump output, GUCs, a role, temp tables, prepared statements, cursors, LISTENs, a
 * `\o` redirection, the --set variables it overwrote) is reset before the next one.
 * The reset rides in the round trip that commits the previous step, so it costs no
 * extra round trip. (DISCARD ALL would, and cannot run in a transaction block.)
 *
 * psql runs with ON_ERROR_STOP, so the first error ends it inside that step's
 * transaction: the server rolls back the migration together with its bookkeeping row,
 * and earlier steps stay committed. Each step reports itself after its COMMIT; when one did not, which
 * step failed is read back from hectic.migration (the truth, whatever psql printed), and
 * where it failed from psql's `psql:FILE:LINE:` report.
 */
import { quoteLiteral } from '../pg/db.js';
import { MigrationFailedError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { RunResult } from '../base/process.js';
import { describePsqlFailure } from '../pg/psql.js';
import type { AppliedMigration, MigrationStep } from './migration-plan.js';
import type { MigrationSession, StepHooks } from './migration-session.js';

/** A path (or any value) as a psql meta-command argument: single-quoted, quotes doubled, backslashes escaped. */
export function psqlQuotePath(file: string): string {
  return `'${file.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function bookkeeping(step: MigrationStep): string {
  return step.direction === 'up'
    ? `INSERT INTO hectic.migration (name, hash) VALUES (${quoteLiteral(step.name)}, ${quoteLiteral(step.hash)})`
    : `DELETE FROM hectic.migration WHERE name = ${quoteLiteral(step.name)}`;
}

const OPEN_STEP = "BEGIN \\; SET LOCAL hectic.migration_mode = 'on'";

/**
 * Back to the user psql logged in as before the bookkeeping row is written: a migration
 * may end as another role (RESET ALL does not cover role and session authorization).
 */
export const AS_SESSION_USER = 'SET SESSION AUTHORIZATION DEFAULT \\; RESET ROLE';

/**
 * What a migration may leave in its session, reset inside the next step's transaction
 * (each statement may run there; DISCARD ALL may not).
 */
export const SESSION_RESET = [
  'RESET ALL',
  'DISCARD TEMP',
  'DISCARD SEQUENCES',
  'DEALLOCATE ALL',
  'CLOSE ALL',
  'UNLISTEN *',
].join(' \\; ');

const NEXT_STEP = `BEGIN \\; ${SESSION_RESET} \\; SET LOCAL hectic.migration_mode = 'on'`;

/** psql's own state put back between steps: output to stdout, the --set variables. */
function psqlReset(vars: Readonly<Record<string, string>>): string[] {
  return ['\\o', ...Object.entries(vars).map(([name, value]) => `\\set ${name} ${psqlQuotePath(value)}`)];
}

/**
 * The psql script running `steps` in order, each in its own transaction with its
 * bookkeeping row, each from a clean session. psql sends statements joined by `\;` as
 * one query, so the tool's own statements cost one round trip per step: the
 * bookkeeping row, the COMMIT, the next step's BEGIN and the session reset travel
 * together (an error in any of them skips the rest of that query).
 */
export function buildMigrationScript(
  steps: readonly MigrationStep[],
  vars: Readonly<Record<string, string>> = {},
  hooks: StepHooks = {},
  stepDone?: (index: number) => string,
): string {
  const lines = ['\\set ON_ERROR_STOP 1'];
  steps.forEach((step, index) => {
    const last = index + 1 === steps.length;
    if (index === 0) lines.push(`${OPEN_STEP};`);
    lines.push(`-- ${index + 1}/${steps.length}: ${step.direction} ${step.name}`);
    if (hooks.afterBegin) lines.push(hooks.afterBegin(index, step));
    lines.push(
      `\\i ${psqlQuotePath(step.file)}`,
      // A migration must not switch ON_ERROR_STOP off for the rest of the run.
      '\\set ON_ERROR_STOP 1',
    );
    if (hooks.beforeCommit) lines.push(hooks.beforeCommit(index, step));
    lines.push(`${AS_SESSION_USER} \\; ${bookkeeping(step)} \\; COMMIT${last ? '' : ` \\; ${NEXT_STEP}`};`);
    // Printed only once that query went through: ON_ERROR_STOP ends psql before it otherwise.
    if (stepDone) lines.push(stepDone(index).trimEnd());
    if (!last) lines.push(...psqlReset(vars));
  });
  return `${lines.join('\n')}\n`;
}

export interface RunPlanResult {
  /** The steps that ran, all of them on success. */
  completed: MigrationStep[];
  /** psql's stderr (NOTICEs and warnings from the migrations). */
  messages: string;
  stdout: string;
}

/** How many steps, in order, the database shows as done. */
function countCompleted(steps: readonly MigrationStep[], appliedNames: ReadonlySet<string>): number {
  let done = 0;
  for (const step of steps) {
    const isDone = step.direction === 'up' ? appliedNames.has(step.name) : !appliedNames.has(step.name);
    if (!isDone) break;
    done += 1;
  }
  return done;
}

/** A failed step; `completed` lists the steps before it, which stay done. */
export class MigrationRunError extends MigrationFailedError {
  readonly completed: MigrationStep[];
  readonly failed: MigrationStep;

  constructor(message: string, details: string | undefined, failed: MigrationStep, completed: MigrationStep[]) {
    super(message, details);
    this.failed = failed;
    this.completed = completed;
  }
}

function failureError(step: MigrationStep, completed: MigrationStep[], result: RunResult): MigrationRunError {
  const failure = describePsqlFailure(result);
  const where = failure.location || result.code !== 0
    ? failure.where
    : 'psql stopped before the step committed (\\q or an explicit ROLLBACK in the migration?)';
  const count = completed.length;
  const kept = count > 0 ? `; the ${count} migration${count === 1 ? '' : 's'} before it stay${count === 1 ? 's' : ''} done` : '';
  return new MigrationRunError(
    `migration ${step.name} (${step.direction}) failed and was rolled back: ${where}${kept}`,
    failure.details,
    step,
    completed,
  );
}

/**
 * Runs the steps through the session's psql process. Each step reports itself once its
 * COMMIT went through; when psql ended well with every step reported, all are done.
 * Otherwise `readApplied` asks hectic.migration how far it got (the truth, whatever
 * psql printed). Throws MigrationRunError (a MigrationFailedError, exit 4) naming the
 * failed step; earlier steps stay done.
 */
export async function runPlan(
  log: Logger,
  session: MigrationSession,
  steps: readonly MigrationStep[],
  readApplied: () => Promise<AppliedMigration[]>,
): Promise<RunPlanResult> {
  const script = buildMigrationScript(steps, session.vars, session.hooks, (index) => session.stepDone(index));
  log.trace(`migration script:\n${script}`);
  const result = await session.finish(script);
  const reported = result.code === 0 && result.marks.length === steps.length;
  const done = reported ? steps.length : countCompleted(steps, new Set((await readApplied()).map((migration) => migration.name)));
  const completed = steps.slice(0, done);
  const failed = steps[done];
  if (failed) throw failureError(failed, completed, result);
  if (result.code !== 0) log.warn(`psql exited ${result.code} after every migration committed: ${result.stderr.trim()}`);
  return { completed, messages: result.stderr, stdout: result.stdout };
}

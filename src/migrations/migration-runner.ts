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
 *   \o  \set NAME 'value' …                             -- psql's own state, reset too
 *
 * A file without psql commands is sent as text instead (pg/inline-sql.ts), the tool's
 * statements joined to its last one, on the line of its final `;`:
 *
 *   CREATE TABLE … \; RESET ROLE … \; INSERT INTO hectic.migration … \; COMMIT \; BEGIN \; …;
 *
 * After the last step's COMMIT, `\echo __dbtool_…_m-done__` reports the run done (read,
 * not shown). One line for the run, not one per step: each would wake the migrator.
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
 * and earlier steps stay committed. When the run did not report itself done, which step
 * failed is read back from hectic.migration (the truth, whatever psql printed), and where
 * it failed from psql's `psql:FILE:LINE:` report.
 */
import fs from 'node:fs';
import { quoteLiteral } from '../pg/db.js';
import { inlineSql, stdinLineMap, type InlineSql, type StdinSource } from '../pg/inline-sql.js';
import { MigrationFailedError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { RunResult } from '../base/process.js';
import { describePsqlFailure, messagesBeforeError, quotePsqlArgument } from '../pg/psql.js';
import type { AppliedMigration, MigrationStep } from './migration-plan.js';
import { DONE_MARK, type MigrationSession, type StepHooks } from './migration-session.js';

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
  return ['\\o', ...Object.entries(vars).map(([name, value]) => `\\set ${name} ${quotePsqlArgument(value)}`)];
}

export interface MigrationScriptOptions {
  /** The --set variables, put back after every `\i`-ed step. */
  vars?: Readonly<Record<string, string>>;
  hooks?: StepHooks;
  /** A line reporting that the last step committed. */
  done?: string;
  /** A step's SQL to send inline (pg/inline-sql.ts), or undefined to `\i` its file. */
  inline?: (step: MigrationStep) => InlineSql | undefined;
}

export interface MigrationScript {
  text: string;
  /** Where inlined files sit, in lines of the script (its first line is 1). */
  sources: StdinSource[];
}

/**
 * The psql script running `steps` in order, each in its own transaction with its
 * bookkeeping row, each from a clean session. psql sends statements joined by `\;` as
 * one query, so the tool's own statements cost one round trip per step: the
 * bookkeeping row, the COMMIT, the next step's BEGIN and the session reset travel
 * together (an error in any of them skips the rest of that query). A step sent inline
 * saves that round trip too: the tool's statements join its last statement, on the
 * line of its final `;`, so psql's messages keep the file's line numbers; and with no
 * backslash in it, it cannot change psql's own state, which needs no putting back.
 */
export function buildMigrationScript(steps: readonly MigrationStep[], options: MigrationScriptOptions = {}): MigrationScript {
  const { vars = {}, hooks = {}, done, inline } = options;
  const chunks: string[] = [];
  const sources: StdinSource[] = [];
  let lines = 0;
  const push = (...texts: string[]): void => {
    for (const text of texts) {
      chunks.push(text);
      lines += 1;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines += 1;
    }
  };
  push('\\set ON_ERROR_STOP 1');
  steps.forEach((step, index) => {
    const last = index + 1 === steps.length;
    if (index === 0) push(`${OPEN_STEP};`);
    push(`-- ${index + 1}/${steps.length}: ${step.direction} ${step.name}`);
    if (hooks.afterBegin) push(hooks.afterBegin(index, step));
    const commit = `${AS_SESSION_USER} \\; ${bookkeeping(step)} \\; COMMIT${last ? '' : ` \\; ${NEXT_STEP}`};`;
    const sql = inline?.(step);
    if (sql) {
      sources.push({ first: lines + 1, lineCount: sql.lineCount, file: step.file });
      push(`${sql.head} \\; ${commit}${sql.rest.endsWith('\n') ? sql.rest.slice(0, -1) : sql.rest}`);
    } else {
      // A migration must not switch ON_ERROR_STOP off for the rest of the run.
      push(`\\i ${quotePsqlArgument(step.file)}`, '\\set ON_ERROR_STOP 1');
      if (hooks.beforeCommit) push(hooks.beforeCommit(index, step));
      push(commit);
    }
    if (!last && !sql) push(...psqlReset(vars));
  });
  // Printed only once the last COMMIT went through: ON_ERROR_STOP ends psql before it otherwise.
  if (done) push(done.trimEnd());
  return { text: `${chunks.join('\n')}\n`, sources };
}

export interface RunPlanResult {
  /** The steps that ran, all of them on success. */
  completed: MigrationStep[];
  /** psql's stderr (NOTICEs and warnings from the migrations). */
  messages: string;
  stdout: string;
}

/**
 * psql 15 shows the results of every statement in a query; older ones only the last,
 * which would hide a migration's own SELECT behind the statements joined to it.
 */
const ALL_RESULTS_PSQL = 150000;

/** A step's file, when psql can read it inline; unreadable files are left to psql's `\i` to report. */
function readInline(step: MigrationStep): InlineSql | undefined {
  try {
    return inlineSql(step.sql ?? fs.readFileSync(step.file));
  } catch {
    return undefined;
  }
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

/**
 * A failed step; `completed` lists the steps before it, which stay done, and `messages`
 * what psql said before the error (NOTICEs and warnings of the migrations that ran).
 */
export class MigrationRunError extends MigrationFailedError {
  readonly completed: MigrationStep[];
  readonly failed: MigrationStep;
  readonly messages: string;

  constructor(message: string, details: string | undefined, failed: MigrationStep, completed: MigrationStep[], messages: string) {
    super(message, details);
    this.failed = failed;
    this.completed = completed;
    this.messages = messages;
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
    messagesBeforeError(result.stderr),
  );
}

/**
 * Runs the steps through the session's psql process. The run reports itself once its
 * last COMMIT went through; when psql ended well with that report, all steps are done.
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
  const inline = !session.hooks?.beforeCommit && (await session.psqlVersion) >= ALL_RESULTS_PSQL ? readInline : undefined;
  const script = buildMigrationScript(steps, { vars: session.vars, hooks: session.hooks, done: session.doneLine, inline });
  log.trace(`migration script:\n${script.text}`);
  const firstLine = session.linesSent;
  const ended = await session.finish(script.text);
  const result = { ...ended, stderr: stdinLineMap(ended.stderr, script.sources.map((source) => ({ ...source, first: source.first + firstLine }))) };
  const reported = result.code === 0 && result.marks.includes(DONE_MARK);
  const done = reported ? steps.length : countCompleted(steps, new Set((await readApplied()).map((migration) => migration.name)));
  const completed = steps.slice(0, done);
  const failed = steps[done];
  if (failed) throw failureError(failed, completed, result);
  if (result.code !== 0) log.warn(`psql exited ${result.code} after every migration committed: ${result.stderr.trim()}`);
  return { completed, messages: result.stderr, stdout: result.stdout };
}

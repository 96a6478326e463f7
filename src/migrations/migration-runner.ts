/**
 * Executes a migration plan through ONE psql session (SPEC §7): user SQL keeps every
 * psql feature (\ir siblings, \if, -v variables), and 200 migrations cost one process.
 *
 * psql runs with ON_ERROR_STOP, so the first error ends it inside that step's
 * transaction: the server rolls back the migration together with its bookkeeping row,
 * and earlier steps stay committed. When the run did not report itself done, which step
 * failed is read back from hectic.migration (the truth, whatever psql printed), and where
 * it failed from psql's `psql:FILE:LINE:` report.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MigrationFailedError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { RunResult } from '../base/process.js';
import { describePsqlFailure, messagesBeforeError } from '../pg/psql.js';
import { fileRunsOutsideTransaction, runsOutsideTransaction } from './migration-directives.js';
import { withScratchFolder } from './migration-scratch.js';
import { buildMigrationScript, STEP_MARK } from './migration-script.js';
import type { AppliedMigration, MigrationStep } from './migration-plan.js';
import { DONE_MARK, type MigrationSession } from './migration-session.js';

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

/** What the server says about a step's transaction after a failed run: txid_status's answer. */
export type TransactionStatus = 'committed' | 'aborted' | 'in progress' | null;

/** Asks the database, after a failed run, what happened. */
export interface RunInspector {
  /** hectic.migration's rows: how far the run got. */
  applied(): Promise<AppliedMigration[]>;
  /** Whether transaction `xid` committed (a step that ended its own transaction). */
  transactionStatus(xid: string): Promise<TransactionStatus>;
}

/** How the failed step ended, as far as the run can tell. */
interface StepFailure {
  /** The step's check found its transaction gone: the migration ended it itself. */
  endedOwnTransaction: boolean;
  /** What became of the transaction that began the step ('committed': the migration's own COMMIT). */
  status: TransactionStatus;
  outsideTransaction: boolean;
}

const OWN_TRANSACTION_HINT =
  'each migration runs in a transaction of its own, with its bookkeeping row: remove its COMMIT/ROLLBACK, or make `-- db-tool: no-transaction` its first line to run it outside a transaction';

function failureError(step: MigrationStep, completed: MigrationStep[], result: RunResult, how: StepFailure): MigrationRunError {
  // Given the step's file, an include loop in it is named rather than psql's crash.
  const failure = describePsqlFailure(result, undefined, { file: step.file });
  const where = failure.location || result.code !== 0
    ? failure.where
    : 'psql stopped before the step committed (\\q in the migration?)';
  const count = completed.length;
  const kept = count > 0 ? `; the ${count} migration${count === 1 ? '' : 's'} before it stay${count === 1 ? 's' : ''} done` : '';
  const what = `migration ${step.name} (${step.direction}${how.outsideTransaction ? ', no transaction' : ''})`;
  const undo = 'the committed part is not recorded: undo it by hand before running the migration again';
  let message: string;
  let details = failure.details;
  const committed = how.status === 'committed';
  if (how.endedOwnTransaction && committed) {
    message = `${what} committed its own transaction: its work up to the COMMIT stays; nothing recorded${kept}`;
    details = `${OWN_TRANSACTION_HINT}; ${undo}`;
  } else if (how.endedOwnTransaction && how.status === 'in progress') {
    message = `${what} ended its own transaction without committing or undoing it (PREPARE TRANSACTION? see pg_prepared_xacts); nothing recorded${kept}`;
    details = OWN_TRANSACTION_HINT;
  } else if (how.endedOwnTransaction) {
    message = `${what} ended its own transaction (ROLLBACK): its work was undone; nothing recorded${kept}`;
    details = OWN_TRANSACTION_HINT;
  } else if (committed) {
    message = `${what} committed its own transaction, then failed: ${where}; its work up to the COMMIT stays, nothing after it ran; nothing recorded${kept}`;
    details = [failure.details, `after its own COMMIT a migration runs read-only; ${OWN_TRANSACTION_HINT}; ${undo}`].filter(Boolean).join('\n');
  } else if (how.outsideTransaction) {
    message = `${what} failed: ${where}; it ran outside a transaction, so its statements before the error stay; nothing recorded${kept}`;
  } else {
    message = `${what} failed and was rolled back: ${where}${kept}`;
  }
  return new MigrationRunError(message, details, step, completed, messagesBeforeError(result.stderr));
}

/** The transaction the step `index` began in, from the step file (undefined when another step wrote it last). */
function stepTransaction(stepFile: string, index: number): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(stepFile, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^s(\d+) (\d+)\s*$/.exec(text);
  return match && Number(match[1]) === index ? match[2] : undefined;
}

/** Whether a step runs outside a transaction: its file says so on its first line. */
function stepRunsOutsideTransaction(step: MigrationStep): boolean {
  return step.sql ? runsOutsideTransaction(step.sql) : fileRunsOutsideTransaction(step.file);
}

/**
 * Runs the steps through the session's psql process. The run reports itself once its
 * last COMMIT went through; when psql ended well with that report, all steps are done.
 * Otherwise `inspect` asks hectic.migration how far it got (the truth, whatever psql
 * printed), and the server whether the failed step's transaction committed. Throws
 * MigrationRunError (a MigrationFailedError, exit 4) naming the failed step; earlier
 * steps stay done. `onStepStart` hears each step begin, as it happens.
 */
export async function runPlan(
  log: Logger,
  session: MigrationSession,
  steps: readonly MigrationStep[],
  inspect: RunInspector,
  onStepStart?: (index: number) => void,
): Promise<RunPlanResult> {
  const outside = new Set(steps.filter(stepRunsOutsideTransaction));
  return withScratchFolder((scratch) => runScript(log, session, steps, inspect, { outside, stepFile: path.join(scratch, 'step'), onStepStart }));
}

interface ScriptSettings {
  outside: ReadonlySet<MigrationStep>;
  stepFile: string;
  onStepStart: ((index: number) => void) | undefined;
}

async function runScript(
  log: Logger,
  session: MigrationSession,
  steps: readonly MigrationStep[],
  inspect: RunInspector,
  { outside, stepFile, onStepStart }: ScriptSettings,
): Promise<RunPlanResult> {
  const script = buildMigrationScript(steps, {
    vars: session.vars,
    hooks: session.hooks,
    done: session.doneLine,
    outsideTransaction: (step) => outside.has(step),
    // Marks wake the migrator per step: only for the progress lines of a terminal.
    markText: onStepStart ? (mark) => session.markText(mark) : undefined,
    stepFile,
    token: randomBytes(4).toString('hex'),
  });
  log.trace(`migration script:\n${script.text}`);
  if (onStepStart) {
    session.onMark((mark) => {
      const index = STEP_MARK.exec(mark)?.[1];
      if (index !== undefined) onStepStart(Number(index));
    });
  }
  const result = await session.finish(script.text);
  const reported = result.code === 0 && result.marks.includes(DONE_MARK);
  const done = reported ? steps.length : countCompleted(steps, new Set((await inspect.applied()).map((migration) => migration.name)));
  const completed = steps.slice(0, done);
  const failed = steps[done];
  if (failed) {
    const xid = stepTransaction(stepFile, done);
    const status = xid && xid !== '0' ? await inspect.transactionStatus(xid).catch(() => null) : null;
    throw failureError(failed, completed, result, {
      endedOwnTransaction: result.stderr.includes(script.endedToken),
      status,
      outsideTransaction: outside.has(failed),
    });
  }
  if (result.code !== 0) log.warn(`psql exited ${result.code} after every migration committed: ${result.stderr.trim()}`);
  return { completed, messages: result.stderr, stdout: result.stdout };
}

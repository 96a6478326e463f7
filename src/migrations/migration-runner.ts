/**
 * Executes a migration plan through ONE psql session (SPEC §7): user SQL keeps every
 * psql feature (\ir siblings, \if, -v variables), and 200 migrations cost one process.
 *
 * Per step the script runs (the tool's statements joined with `\;`, one round trip each)
 *
 *   BEGIN READ WRITE \; SET LOCAL hectic.migration_mode = 'on' \; SELECT txid_current() AS X \gset
 *   sK :X \w '/dev/shm/…/step' \r                      -- step K began in transaction X
 *   (\echo of a mark: step K began, for a terminal's progress lines only)
 *   \i '/abs/path/up.sql'                                -- \ir inside resolves next to it
 *   \set ON_ERROR_STOP 1                                 -- a migration must not switch it off
 *   DECLARE c CURSOR FOR SELECT int4(CASE WHEN txid_current_if_assigned() IS NOT DISTINCT FROM X
 *     THEN '1' ELSE '<token>' END) \; MOVE c \; CLOSE c \; RESET ROLE … \; INSERT INTO hectic.migration …
 *     \; COMMIT \; BEGIN READ WRITE \; RESET ALL \; … \gset
 *   \o  \set NAME 'value' …                             -- psql's own state, reset too
 *
 * The migration's file is never taken apart: psql reads it with `\i`, as it would with
 * `-f` (its own lexer, `\` commands, COPY data, a last statement without `;`), and the
 * bookkeeping row follows as statements of the tool's own, in the same transaction.
 *
 * A migration that ends the transaction it was given (its own COMMIT or ROLLBACK, SPEC
 * §17) is caught twice. The session's default is read-only (each step's transaction is
 * READ WRITE explicitly), so whatever the migration writes after its own COMMIT or
 * ROLLBACK is refused: what it committed is exactly its work up to its COMMIT. And
 * before the bookkeeping row, the check above fails (with our token in the message)
 * unless the transaction that began the step is still the one open. Which step began in
 * which transaction is written to the step file, so after a failure the runner asks the
 * server whether that transaction committed (the migration's own COMMIT) or not.
 *
 * A migration whose first line is `-- db-tool: no-transaction` runs outside a
 * transaction, read-write, each statement committing on its own; its bookkeeping row
 * follows in a transaction of its own once its last statement succeeded.
 *
 * After the last step's COMMIT, `\echo __dbtool_…_m-done__` reports the run done.
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
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { quoteLiteral } from '../pg/db.js';
import { MigrationFailedError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { RunResult } from '../base/process.js';
import { describePsqlFailure, messagesBeforeError, quotePsqlArgument } from '../pg/psql.js';
import { fileRunsOutsideTransaction, runsOutsideTransaction } from './migration-directives.js';
import { withScratchFolder } from './migration-scratch.js';
import type { AppliedMigration, MigrationStep } from './migration-plan.js';
import { DONE_MARK, type MigrationSession, type StepHooks } from './migration-session.js';

function bookkeeping(step: MigrationStep): string {
  return step.direction === 'up'
    ? `INSERT INTO hectic.migration (name, hash) VALUES (${quoteLiteral(step.name)}, ${quoteLiteral(step.hash)})`
    : `DELETE FROM hectic.migration WHERE name = ${quoteLiteral(step.name)}`;
}

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

/** Transactions the session starts on its own are read-only: a migration's work after its own COMMIT is refused. */
export const READ_ONLY_DEFAULT = 'SET default_transaction_read_only = on';

const MIGRATION_MODE = "SET LOCAL hectic.migration_mode = 'on'";

/** psql's own state put back between steps: output to stdout, the --set variables. */
function psqlReset(vars: Readonly<Record<string, string>>): string[] {
  return ['\\o', ...Object.entries(vars).map(([name, value]) => `\\set ${name} ${quotePsqlArgument(value)}`)];
}

/** The mark a step's start prints: `s<index>-<transaction id>` (0 outside a transaction). */
const STEP_MARK = /^s(\d+)-(\d+)$/;

export interface MigrationScriptOptions {
  /** The --set variables, put back after every `\i`-ed step. */
  vars?: Readonly<Record<string, string>>;
  hooks?: StepHooks;
  /** A line reporting that the last step committed. */
  done?: string;
  /** Whether a step runs outside a transaction (`-- db-tool: no-transaction`). */
  outsideTransaction?: (step: MigrationStep) => boolean;
  /** The text that reports a mark on a line of psql's stdout (the session's): each step reports its start (progress). */
  markText?: (mark: string) => string;
  /**
   * A file each step overwrites as it begins with `s<index> <transaction id>` (0 outside a
   * transaction): read after a failure, it tells which transaction the failed step began.
   * A file, not a mark: a mark per step would wake the migrator per step.
   */
  stepFile?: string;
  /** Keeps the script's psql variables and its error token apart from a migration's own. */
  token?: string;
}

export interface MigrationScript {
  text: string;
  /** Appears in psql's error when a step's migration ended the transaction it was given. */
  endedToken: string;
}

/** The statements that begin step `index` (joined with `\;`) and the psql lines that follow them. */
interface StepOpening {
  statements: string[];
  /** Ends the query: `\gset` (the step's transaction id) or `;`. */
  terminator: string;
  after: string[];
}

/**
 * The psql script running `steps` in order, each in its own transaction with its
 * bookkeeping row (or outside any, when it says so), each from a clean session. psql
 * sends statements joined by `\;` as one query, so the tool's own statements cost one
 * round trip per step: the check that the step's transaction is still open, the
 * bookkeeping row, the COMMIT, the next step's BEGIN and the session reset together (an
 * error in any of them skips the rest of that query).
 */
export function buildMigrationScript(steps: readonly MigrationStep[], options: MigrationScriptOptions = {}): MigrationScript {
  const { vars = {}, hooks = {}, done, outsideTransaction = () => false, markText, stepFile, token = 'run' } = options;
  const markVar = `dbtool_mark_${token}`;
  const xactVar = `dbtool_xact_${token}`;
  const endedToken = `db-tool ${token}: the migration ended its transaction`;
  // A cursor runs the check and prints nothing (a SELECT would show its row), so it joins the bookkeeping's query.
  const cursor = `dbtool_check_${token}`;
  const check = [
    `DECLARE ${cursor} CURSOR FOR SELECT pg_catalog.int4(CASE WHEN pg_catalog.txid_current_if_assigned() IS NOT DISTINCT FROM :'${xactVar}'::pg_catalog.int8 THEN '1' ELSE ${quoteLiteral(endedToken)} END)`,
    `MOVE ${cursor}`,
    `CLOSE ${cursor}`,
  ];
  const chunks: string[] = [];
  const push = (...texts: string[]): void => {
    chunks.push(...texts);
  };
  // The step's line in the step file: psql's query buffer holds it while \w writes it out, then \r empties it.
  const record = (index: number, xact: string): string[] => (stepFile ? [`s${index} ${xact} \\w ${quotePsqlArgument(stepFile)} \\r`] : []);
  const opening = (index: number, step: MigrationStep): StepOpening => {
    if (outsideTransaction(step)) {
      // Read-write, as any client: each statement commits on its own.
      const after = [...record(index, '0'), ...(markText ? [`\\echo ${markText(`s${index}-0`)}`] : [])];
      return { statements: ['SET default_transaction_read_only = off', "SET hectic.migration_mode = 'on'"], terminator: ';', after };
    }
    const statements = ['BEGIN READ WRITE', MIGRATION_MODE, `SELECT pg_catalog.txid_current() AS ${xactVar}`];
    const after = record(index, `:${xactVar}`);
    if (!markText) return { statements, terminator: ' \\gset', after };
    const [before, rest] = markText(`s${index}-XID`).split('XID');
    const mark = `${quoteLiteral(before ?? '')} || pg_catalog.txid_current() || ${quoteLiteral(rest ?? '')} AS ${markVar}`;
    return { statements: [...statements.slice(0, -1), `SELECT pg_catalog.txid_current() AS ${xactVar}, ${mark}`], terminator: ' \\gset', after: [...after, `\\echo :${markVar}`] };
  };
  const pushOpening = (prefix: string[], open: StepOpening): void => {
    push(`${[...prefix, ...open.statements].join(' \\; ')}${open.terminator}`, ...open.after);
  };

  push('\\set ON_ERROR_STOP 1');
  steps.forEach((step, index) => {
    const last = index + 1 === steps.length;
    const outside = outsideTransaction(step);
    if (index === 0) pushOpening(outside ? [] : [READ_ONLY_DEFAULT], opening(index, step));
    push(`-- ${index + 1}/${steps.length}: ${step.direction} ${step.name}${outside ? ' (no transaction)' : ''}`);
    if (hooks.afterBegin) push(hooks.afterBegin(index, step));
    // A migration must not switch ON_ERROR_STOP off for the rest of the run.
    push(`\\i ${quotePsqlArgument(step.file)}`, '\\set ON_ERROR_STOP 1');
    if (hooks.beforeCommit) push(hooks.beforeCommit(index, step));
    const closing = outside
      ? [AS_SESSION_USER, 'BEGIN READ WRITE', MIGRATION_MODE, bookkeeping(step), 'COMMIT']
      : [...check, AS_SESSION_USER, bookkeeping(step), 'COMMIT'];
    const next = steps[index + 1];
    if (next) {
      const open = opening(index + 1, next);
      // The reset runs inside the next step's transaction, or before it when it has none.
      const reset = outsideTransaction(next) ? [SESSION_RESET] : [open.statements[0] ?? '', SESSION_RESET, READ_ONLY_DEFAULT];
      const statements = outsideTransaction(next) ? open.statements : open.statements.slice(1);
      push(`${[...closing, ...reset, ...statements].join(' \\; ')}${open.terminator}`, ...open.after);
    } else push(`${closing.join(' \\; ')};`);
    if (!last) push(...psqlReset(vars));
  });
  // Printed only once the last COMMIT went through: ON_ERROR_STOP ends psql before it otherwise.
  if (done) push(done.trimEnd());
  return { text: `${chunks.join('\n')}\n`, endedToken };
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

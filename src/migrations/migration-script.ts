/**
 * The psql script that runs a migration plan (migration-runner.ts executes it).
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
 */
import { quoteLiteral } from '../pg/db.js';
import { quotePsqlArgument } from '../pg/psql.js';
import type { MigrationStep } from './migration-plan.js';
import { type StepHooks } from './migration-session.js';

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
export const STEP_MARK = /^s(\d+)-(\d+)$/;

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
 * Fails, with `endedToken` in its message, unless the transaction that began the step
 * is still the one open. A cursor runs the check and prints nothing (a SELECT would show
 * its row), so it joins the bookkeeping's query.
 */
function transactionCheck(token: string, xactVar: string, endedToken: string): string[] {
  const cursor = `dbtool_check_${token}`;
  return [
    `DECLARE ${cursor} CURSOR FOR SELECT pg_catalog.int4(CASE WHEN pg_catalog.txid_current_if_assigned() IS NOT DISTINCT FROM :'${xactVar}'::pg_catalog.int8 THEN '1' ELSE ${quoteLiteral(endedToken)} END)`,
    `MOVE ${cursor}`,
    `CLOSE ${cursor}`,
  ];
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
  const check = transactionCheck(token, xactVar, endedToken);
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

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
 * Each migration starts from a clean session (SPEC §7), so `up all` behaves like
 * repeated `up 1`: what one migration sets for its session (search_path emptied by
 * pg_dump output, GUCs, a role, temp tables, prepared statements, cursors, LISTENs, a
 * `\o` redirection, the --set variables it overwrote) is reset before the next one.
 * The reset rides in the round trip that commits the previous step, so it costs no
 * extra round trip. (DISCARD ALL would, and cannot run in a transaction block.)
 *
 * with ON_ERROR_STOP, so the first error ends psql inside that step's transaction: the
 * server rolls back the migration together with its bookkeeping row, and earlier steps
 * stay committed. Which step failed is read back from hectic.migration afterwards (the
 * truth, whatever psql printed), and where it failed from psql's `psql:FILE:LINE:` report.
 */
import type { ClientBase } from 'pg';
import type { Config } from '../base/config.js';
import { quoteLiteral } from '../pg/db.js';
import { MigrationFailedError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { RunResult } from '../base/process.js';
import { describePsqlFailure, execPsql } from '../pg/psql.js';
import type { MigrationStep } from './migration-plan.js';
import { readAppliedMigrations } from './migration-state.js';

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
export function buildMigrationScript(steps: readonly MigrationStep[], vars: Readonly<Record<string, string>> = {}, hooks: StepHooks = {}): string {
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
    lines.push(`${AS_SESSION_USER} \\; ${bookkeeping(step)} \\; COMMIT${last ? '' : ` \\; ${NEXT_STEP}`};`, ...(last ? [] : psqlReset(vars)));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * psql lines run inside each step's transaction, right after its BEGIN and right before
 * its COMMIT (diff's rehearsal reads pg_locks and pg_class there).
 */
export interface StepHooks {
  afterBegin?: (index: number, step: MigrationStep) => string;
  beforeCommit?: (index: number, step: MigrationStep) => string;
}

export interface MigrationSessionOptions {
  url: string;
  /** psql variables from --set NAME=VALUE. */
  vars: Readonly<Record<string, string>>;
  /** Where the migrations' own output (SELECT results, \echo) goes; default: our stdout. */
  output?: 'inherit' | 'pipe' | number;
  hooks?: StepHooks;
}

/**
 * The one psql process of a run, started before the plan is known: its start and
 * connection overlap the migrator's own work (lock, bundle, history, plan). It waits
 * for its script on stdin; `cancel` gives it none, and it ends having done nothing.
 */
export interface MigrationSession {
  readonly vars: Readonly<Record<string, string>>;
  readonly hooks?: StepHooks;
  /** Hands psql its script (once); resolves with how psql ended. */
  run(script: string): Promise<RunResult>;
  /** Ends psql without running anything (a no-op once `run` was called). */
  cancel(): Promise<void>;
}

/** The script once it is known; nothing at all when the run is cancelled. */
async function* scriptWhenReady(script: Promise<string>): AsyncIterable<string> {
  let text: string;
  try {
    text = await script;
  } catch {
    return; // cancelled: psql reads end of input and exits having run nothing
  }
  yield text;
}

export function openMigrationSession(config: Config, options: MigrationSessionOptions): MigrationSession {
  let supply: (script: string) => void = () => undefined;
  let refuse: () => void = () => undefined;
  const script = new Promise<string>((resolve, reject) => {
    supply = resolve;
    refuse = () => reject(new Error('no migrations to run'));
  });
  const ended = execPsql(config, { url: options.url, vars: options.vars, sql: scriptWhenReady(script), output: options.output ?? 'inherit', cwd: config.cwd });
  // Seen by `run` or `cancel` later; until then a failure to start psql (exit 127) must
  // not count as an unhandled rejection.
  ended.catch(() => undefined);
  let used = false;
  return {
    vars: options.vars,
    hooks: options.hooks,
    run(text: string): Promise<RunResult> {
      used = true;
      supply(text);
      return ended;
    },
    async cancel(): Promise<void> {
      if (used) return;
      used = true;
      refuse();
      await ended.catch(() => undefined);
    },
  };
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
 * Runs the steps through the session's psql process, then checks hectic.migration
 * (through `client`, which holds the migrator lock) to learn how far it got. Throws
 * MigrationRunError (a MigrationFailedError, exit 4) naming the failed step; earlier
 * steps stay done.
 */
export async function runPlan(log: Logger, client: ClientBase, session: MigrationSession, steps: readonly MigrationStep[]): Promise<RunPlanResult> {
  const script = buildMigrationScript(steps, session.vars, session.hooks);
  log.trace(`migration script:\n${script}`);
  const result = await session.run(script);
  const appliedNames = new Set((await readAppliedMigrations(client)).map((migration) => migration.name));
  const done = countCompleted(steps, appliedNames);
  const completed = steps.slice(0, done);
  const failed = steps[done];
  if (failed) throw failureError(failed, completed, result);
  if (result.code !== 0) log.warn(`psql exited ${result.code} after every migration committed: ${result.stderr.trim()}`);
  return { completed, messages: result.stderr, stdout: result.stdout };
}

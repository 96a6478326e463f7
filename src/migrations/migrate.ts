import { applyBundle, holdsCurrentBundle } from '../deploy/bundle.js';
import type pg from 'pg';
import { withClient } from '../pg/db.js';
import { formatDuration, type Logger } from '../base/log.js';
import { readMigrations } from './migration-files.js';
import { planMigrations, type AppliedMigration, type MigrationPlan, type MigrationRequest, type MigrationStep } from './migration-plan.js';
import { MigrationRunError, runPlan, type RunInspector, type TransactionStatus } from './migration-runner.js';
import { openMigrationSession, type MigrationSession, type MigrationSessionSettings, type StepHooks } from './migration-session.js';
import { readAppliedMigrations, takeMigratorLock } from './migration-state.js';

export interface MigrateOptions {
  url: string;
  migrationDir: string;
  request: MigrationRequest;
  /** psql variables (--set NAME=VALUE). */
  vars: Readonly<Record<string, string>>;
  /** Proceed despite a history mismatch or a changed migration. */
  force: boolean;
  /** Apply pending migrations that sort before applied ones (merged out of order). */
  allowOutOfOrder?: boolean;
  /** Only plan: read the database, change nothing (not even the bundle). */
  dryRun: boolean;
  /** Where the migrations' own output goes (default: our stdout). */
  output?: 'inherit' | 'pipe' | number;
  /** psql lines run inside each migration's transaction (diff's rehearsal). */
  hooks?: StepHooks;
  /**
   * The run's connections, when the caller opened them early (psql's start then overlaps
   * loading the migrator); opened from the options above otherwise. Closed here either way.
   */
  session?: MigrationSession;
}

export interface MigrateResult {
  plan: MigrationPlan;
  dryRun: boolean;
  /** The steps that ran (all of the plan's on success). */
  completed: MigrationStep[];
}

function logSteps(log: Logger, steps: readonly MigrationStep[]): void {
  for (const step of steps) log.info(`${step.direction === 'up' ? 'applied ' : 'reverted'} ${step.name}`);
}

/** Warnings of overridden checks, and the out-of-order migrations the plan applies. */
function reportPlan(log: Logger, plan: MigrationPlan): void {
  for (const warning of plan.forced) log.warn(warning);
  const outOfOrder = new Set(plan.outOfOrder);
  const applying = plan.steps.filter((step) => step.direction === 'up' && outOfOrder.has(step.name)).map((step) => step.name);
  if (applying.length > 0) log.notice(`applying ${applying.length} out-of-order migration${applying.length === 1 ? '' : 's'} after the applied ones: ${applying.join(', ')}`);
}

function logMessages(log: Logger, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) log.info(line);
}

/**
 * Runs `migrate up|down|to`: validates the folder, then — holding the migrator lock
 * from before the history is read until psql is done — makes sure the bundle is there,
 * reads the history, plans, and runs the plan. Refusals happen before anything changes;
 * a failing migration throws MigrationRunError (exit 4).
 *
 * The run's connections open first (migration-session.ts): psql, which runs the
 * migrations and ends unused when there is nothing to run, and a pg client, which asks
 * the migrator's questions (lock, bundle, history) while the folder is read and hashed.
 */
export async function runMigrations(config: MigrationSessionSettings, log: Logger, options: MigrateOptions): Promise<MigrateResult> {
  if (options.dryRun) {
    await options.session?.close();
    // Malformed folders are refused before we even connect.
    const disk = readMigrations(options.migrationDir);
    const plan = await withClient(options.url, async (client) =>
      planMigrations(disk, await readAppliedMigrations(client), options.request, { force: options.force, allowOutOfOrder: options.allowOutOfOrder }),
    );
    reportPlan(log, plan);
    return { plan, dryRun: true, completed: [] };
  }

  const session = options.session ?? openMigrationSession(config, { url: options.url, vars: options.vars, output: options.output, hooks: options.hooks });
  try {
    const asking = askDatabase(log, session);
    asking.catch(() => undefined); // awaited below, unless the folder is refused
    // Malformed folders are refused before anything changes (a lock taken is not a change).
    const disk = readMigrations(options.migrationDir);
    const { client, history } = await asking;
    // Applying the bundle creates or upgrades hectic.migration: the history is read after it.
    if (!history) await applyBundle(client, log);
    const applied = history ?? (await readAppliedMigrations(client, { tableKnown: true }));
    const plan = planMigrations(disk, applied, options.request, { force: options.force, allowOutOfOrder: options.allowOutOfOrder });
    reportPlan(log, plan);
    if (plan.steps.length === 0) return { plan, dryRun: false, completed: [] };
    return { plan, dryRun: false, completed: await runSteps(log, options.url, session, plan) };
  } finally {
    await session.close();
  }
}

/**
 * Takes the migrator lock, then asks whether the database holds this bundle and, when it
 * does, reads the history (under the lock); `history` is undefined when the bundle must
 * be applied first.
 */
async function askDatabase(log: Logger, session: MigrationSession): Promise<{ client: pg.Client; history: AppliedMigration[] | undefined }> {
  const client = await session.client();
  await takeMigratorLock(client, () => log.info('another migrator run holds the lock on this database; waiting for it to finish…'));
  if (!(await holdsCurrentBundle(client))) return { client, history: undefined };
  log.debug('hectic bundle already installed');
  return { client, history: await readAppliedMigrations(client, { tableKnown: true }) };
}

/**
 * Reads the outcome of a failed run back (psql has ended) through a connection of its
 * own: a migration may have ended the run's other sessions (pg_terminate_backend).
 */
function inspector(url: string): RunInspector {
  return {
    applied: () => withClient(url, (client) => readAppliedMigrations(client, { tableKnown: true })),
    transactionStatus: (xid) =>
      withClient(url, async (client) => {
        const { rows } = await client.query<{ status: TransactionStatus }>(`SELECT txid_status(${BigInt(xid).toString()}) AS status`);
        return rows[0]?.status ?? null;
      }),
  };
}

/** The live steps of a run on a terminal; `end` resolves once the last one's line is printed. */
export interface StepProgress {
  start(index: number): void;
  end(ok: boolean): Promise<void>;
}

/**
 * On a terminal, each migration is a step of the log: a live line while it runs (a long
 * one shows what is running), then its line with its duration. Elsewhere, nothing.
 */
export function stepProgress(log: Logger, steps: readonly MigrationStep[]): StepProgress | undefined {
  if (!log.interactive) return undefined;
  let current: { resolve(): void; reject(error: Error): void; shown: Promise<unknown> } | undefined;
  const end = (ok: boolean): Promise<unknown> => {
    const ending = current;
    current = undefined;
    if (ok) ending?.resolve();
    else ending?.reject(new Error('failed'));
    return ending?.shown ?? Promise.resolve();
  };
  return {
    start(index) {
      // This step's live line starts once the last step's line is printed: never two live
      // lines at once, not even for the moment the last one takes to finish.
      const previous = end(true);
      const step = steps[index];
      if (!step) return;
      let settle: Pick<NonNullable<typeof current>, 'resolve' | 'reject'> = { resolve: () => undefined, reject: () => undefined };
      const running = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      const title = `${step.direction === 'up' ? 'apply' : 'revert'} ${step.name} (${index + 1}/${steps.length})`;
      current = { ...settle, shown: previous.then(() => log.step(title, () => running)).catch(() => undefined) };
    },
    end: async (ok) => {
      await end(ok);
    },
  };
}

async function runSteps(log: Logger, url: string, session: MigrationSession, plan: MigrationPlan): Promise<MigrationStep[]> {
  const started = performance.now();
  const progress = stepProgress(log, plan.steps);
  try {
    const result = await runPlan(log, session, plan.steps, inspector(url), progress?.start);
    await progress?.end(true);
    logMessages(log, result.messages);
    if (!progress) logSteps(log, result.completed);
    const verb = plan.steps.every((step) => step.direction === 'up') ? 'applied' : plan.steps.every((step) => step.direction === 'down') ? 'reverted' : 'ran';
    log.info(`${verb} ${result.completed.length} migration${result.completed.length === 1 ? '' : 's'} in ${formatDuration(performance.now() - started)}`);
    return result.completed;
  } catch (error) {
    await progress?.end(false);
    if (error instanceof MigrationRunError) {
      logMessages(log, error.messages);
      if (!progress) logSteps(log, error.completed);
    }
    throw error;
  }
}

import { applyBundle } from '../build/bundle.js';
import type { Config } from '../base/config.js';
import { connect, withClient } from '../pg/db.js';
import { formatDuration, type Logger } from '../base/log.js';
import { readMigrations } from './migration-files.js';
import { planMigrations, type MigrationPlan, type MigrationRequest, type MigrationStep } from './migration-plan.js';
import { MigrationRunError, runPlan } from './migration-runner.js';
import { readAppliedMigrations, takeMigratorLock } from './migration-state.js';

export interface MigrateOptions {
  url: string;
  migrationDir: string;
  request: MigrationRequest;
  /** psql variables (--set NAME=VALUE). */
  vars: Readonly<Record<string, string>>;
  /** Proceed despite a history mismatch or a changed migration. */
  force: boolean;
  /** Only plan: read the database, change nothing (not even the bundle). */
  dryRun: boolean;
  /** Where the migrations' own output goes (default: our stdout). */
  output?: 'inherit' | 'pipe' | number;
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

function logMessages(log: Logger, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) log.info(line);
}

/**
 * `migrator migrate up|down|to`: validates the folder, then — holding the migrator lock
 * from before the history is read until psql is done — applies the bundle, reads the
 * history, plans, and runs the plan through one psql session. Refusals happen before
 * anything changes; a failing migration throws MigrationRunError (exit 4).
 */
export async function migrateCommand(config: Config, log: Logger, options: MigrateOptions): Promise<MigrateResult> {
  // Malformed folders are refused before we even connect.
  const disk = readMigrations(options.migrationDir);
  if (options.dryRun) {
    const plan = await withClient(options.url, async (client) =>
      planMigrations(disk, await readAppliedMigrations(client), options.request, { force: options.force }),
    );
    for (const warning of plan.forced) log.warn(warning);
    return { plan, dryRun: true, completed: [] };
  }

  const client = await connect(options.url);
  try {
    await takeMigratorLock(client, () => log.info('another migrator run holds the lock on this database; waiting for it to finish…'));
    await applyBundle(client, log);
    const plan = planMigrations(disk, await readAppliedMigrations(client), options.request, { force: options.force });
    for (const warning of plan.forced) log.warn(warning);
    if (plan.steps.length === 0) return { plan, dryRun: false, completed: [] };

    const started = performance.now();
    try {
      const result = await runPlan(config, log, client, { url: options.url, steps: plan.steps, vars: options.vars, output: options.output });
      logMessages(log, result.messages);
      logSteps(log, result.completed);
      const verb = plan.steps.every((step) => step.direction === 'up') ? 'applied' : plan.steps.every((step) => step.direction === 'down') ? 'reverted' : 'ran';
      log.info(`${verb} ${result.completed.length} migration${result.completed.length === 1 ? '' : 's'} in ${formatDuration(performance.now() - started)}`);
      return { plan, dryRun: false, completed: result.completed };
    } catch (error) {
      if (error instanceof MigrationRunError) logSteps(log, error.completed);
      throw error;
    }
  } finally {
    // Closing the session releases the advisory lock.
    await client.end().catch(() => undefined);
  }
}

/** The plan as `--dry-run` prints it: `up NAME` / `down NAME` per line, in order. */
export function formatPlan(plan: MigrationPlan): string {
  return plan.steps.map((step) => `${step.direction} ${step.name}\n`).join('');
}

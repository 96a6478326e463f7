/**
 * The deploy-flow and migrator steps `database diff` runs on its two clusters, behind
 * a small interface so the comparison does not depend on how those commands are
 * built (and tests or library users can substitute their own).
 */
import fs from 'node:fs';
import { hydrateDatabase } from '../build/hydrate.js';
import { migratorInitCommand } from '../commands/migrator-init.js';
import { migrateCommand } from '../migrations/migrate.js';
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';

export interface DiffSteps {
  /** Bundle + dotenv secrets + the hydrate entrypoint (`-v USE_MOCK=1` with mock). */
  hydrate(config: Config, log: Logger, url: string, options: { mock: boolean }): Promise<{ entrypoint: string }>;
  /** `migrate up all` from `migrationDir`; returns the names applied. `output` receives the migrations' own output. */
  migrateUpAll(config: Config, log: Logger, url: string, options: { migrationDir: string; output: number }): Promise<{ applied: string[] }>;
  /** `migrator init`: the hectic bundle. */
  migratorInit(config: Config, log: Logger, url: string): Promise<void>;
}

export const defaultDiffSteps: DiffSteps = {
  async hydrate(config, log, url, options) {
    const result = await hydrateDatabase(config, log, url, { mock: options.mock });
    return { entrypoint: result.entrypoint };
  },
  async migrateUpAll(config, log, url, options) {
    const result = await migrateCommand(config, log, {
      url,
      migrationDir: options.migrationDir,
      request: { kind: 'up', count: 'all' },
      vars: {},
      force: false,
      dryRun: false,
      output: options.output,
    });
    return { applied: result.completed.map((step) => step.name) };
  },
  async migratorInit(_config, log, url) {
    await migratorInitCommand(log, url);
  },
};

/** True when there is a migration folder to run (a project without one diffs backup vs sources). */
export function hasMigrationDir(dir: string | undefined): dir is string {
  return dir !== undefined && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}

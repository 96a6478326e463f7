/**
 * What the migrator's actions read from the line and the environment: the URL (said
 * once when DB_URL and PGURL disagree), the migration folder, `--set` variables, --force
 * and --dry-run. `MigratorSources` is where `migrator` and `database migrator` differ.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../base/config.js';
import { MissingInputError } from '../base/errors.js';
import { parseVariables } from './migrator-args.js';
import { rootOptions } from './options.js';
import type { CliContext } from './run.js';

/** Where the URL and folder come from when the flags do not give them. */
export interface MigratorSources {
  /** Program name in usage and messages. */
  name: string;
  /** The URL without --db-url; throws MissingInputError (exit 3) when there is none. */
  defaultUrl: () => string;
  /** The folder without --migration-dir (may throw MissingInputError, exit 3). */
  defaultMigrationDir: () => string;
  /** Without --db-url: the variable used and the one ignored, when both are set. */
  urlChoice?: () => [used: [string, string], ignored: [string, string]] | undefined;
}

/**
 * The standalone `migrator` (SPEC §7): URL from DB_URL then PGURL; folder from
 * MIGRATION_DIR, then the project's folder when LOCAL_DIR (or DATABASE_DIR) is set —
 * `$DATABASE_DIR/migration`, by default `$LOCAL_DIR/db/migration`, the folder `database
 * migrator` uses — then `./migration`.
 */
export function standaloneSources(config: Config): MigratorSources {
  return {
    name: 'migrator',
    defaultUrl: () => {
      const url = config.dbUrl ?? config.pgUrl;
      if (!url) throw new MissingInputError('no database URL: pass -u/--db-url, or set DB_URL or PGURL');
      return url;
    },
    // `database` reads PGURL first: when both are set, the run says which one it uses.
    urlChoice: () => (config.dbUrl && config.pgUrl ? [['DB_URL', config.dbUrl], ['PGURL', config.pgUrl]] : undefined),
    defaultMigrationDir: () => config.migrationDir ?? path.resolve(config.cwd, 'migration'),
  };
}

export interface RootOptions {
  dbUrl?: string;
  migrationDir?: string;
  set?: string[];
  force?: boolean;
  dryRun?: boolean;
  inherits?: string[];
}

interface MigratorSettings {
  migrationDir: () => string;
  url: () => string;
  /**
   * The URL, once the choice between DB_URL and PGURL is said (when they differ); with
   * `named`, also the line naming the target (SPEC §5, turn 4).
   */
  target: (named?: boolean) => Promise<string>;
  vars: Record<string, string>;
  force: boolean;
  dryRun: boolean;
}

/** `make` runs once, on first call; later calls get its value (the choice is said once). */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

export function settingsOf(command: Command, ctx: CliContext, sources: MigratorSources): MigratorSettings {
  const options = rootOptions<RootOptions>(command);
  const chosenUrl = once(async () => {
    const url = options.dbUrl ?? sources.defaultUrl();
    const choice = options.dbUrl ? undefined : sources.urlChoice?.();
    const note = choice && (await import('../commands/target-name.js')).conflictNote(...choice);
    if (note) ctx.log.warn(note);
    return url;
  });
  return {
    migrationDir: () => (options.migrationDir ? path.resolve(ctx.config.cwd, options.migrationDir) : sources.defaultMigrationDir()),
    url: () => options.dbUrl ?? sources.defaultUrl(),
    target: async (named = true) => {
      const url = await chosenUrl();
      if (named) ctx.log.info(`target: ${(await import('../commands/target-name.js')).describeTarget(url)}`);
      return url;
    },
    vars: parseVariables(options.set ?? []),
    force: Boolean(options.force),
    dryRun: Boolean(options.dryRun),
  };
}

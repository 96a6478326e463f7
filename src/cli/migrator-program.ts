/**
 * The migrator's commander program (SPEC §7), shared by the `migrator` executable and
 * `database migrator ARGS…`, which differ only in where the URL and the migration
 * folder come from when no flag gives them (`MigratorSources`). Each action imports its
 * implementation when it runs, as `database`'s do (see database-program.ts).
 */
import { Command } from 'commander';
import type { MigrateResult } from '../migrations/migrate.js';
import { isDbToolError } from '../base/errors.js';
import { exitCodeFor } from './exit-codes.js';
import type { MigrationRequest } from '../migrations/migration-plan.js';
import { json } from './output.js';
import { parseCount, prepareMigratorArgs } from './migrator-args.js';
import { registerLint, registerRehearse } from './migrator-checks.js';
import { settingsOf, type MigratorSources, type RootOptions } from './migrator-settings.js';
import { formatList, formatPlan, formatStatusLines } from './render/migrator.js';
import { configureCommand, nameErrorsBySubcommand, type CliContext } from './run.js';
import { VERSION } from './version.js';
import { collect, ENV_FILE_HELP, ENV_FILE_OPTION } from './options.js';

function reportMigrate(ctx: CliContext, result: MigrateResult): void {
  if (result.dryRun) {
    ctx.out(formatPlan(result.plan));
    if (result.plan.nothingToDo) ctx.log.info(result.plan.nothingToDo);
    else ctx.log.info(`dry run: ${result.plan.steps.length} step${result.plan.steps.length === 1 ? '' : 's'} planned, nothing changed`);
    return;
  }
  if (result.plan.nothingToDo) ctx.log.info(result.plan.nothingToDo);
}

const ALLOW_OUT_OF_ORDER = '--allow-out-of-order';
const ALLOW_OUT_OF_ORDER_HELP = 'apply pending migrations that sort before applied ones (merged from another branch), after them';

interface OutOfOrderOptions {
  allowOutOfOrder?: boolean;
}

function registerMigrate(program: Command, ctx: CliContext, sources: MigratorSources): void {
  const run = async (command: Command, request: MigrationRequest, allowOutOfOrder = false): Promise<void> => {
    const settings = settingsOf(command, ctx, sources);
    // Named once the run is done: an error about the folder stays one line.
    const url = await settings.target(false);
    const { migrateCommand } = await import('../commands/migrate.js');
    const result = await migrateCommand(ctx.config, ctx.log, {
      url,
      migrationDir: settings.migrationDir(),
      request,
      vars: settings.vars,
      force: settings.force,
      allowOutOfOrder,
      dryRun: settings.dryRun,
      output: ctx.out,
    });
    reportMigrate(ctx, result);
    await settings.target();
  };
  const migrate = configureCommand(program.command('migrate'), sources.name)
    .description('apply or revert migrations: up, down, to, status')
    .helpCommand(false);
  configureCommand(migrate.command('up'), sources.name)
    .description('apply the next N pending migrations (default 1), or all of them')
    .argument('[N]', 'a positive number, all, latest or head')
    .option(ALLOW_OUT_OF_ORDER, ALLOW_OUT_OF_ORDER_HELP)
    .action(async (count: string | undefined, options: OutOfOrderOptions, command: Command) =>
      run(command, { kind: 'up', count: parseCount(count, 'up') }, Boolean(options.allowOutOfOrder)),
    );
  configureCommand(migrate.command('down'), sources.name)
    .description('revert the last N applied migrations (default 1), or all of them')
    .argument('[N]', 'a positive number or all')
    .action(async (count: string | undefined, _options: unknown, command: Command) => run(command, { kind: 'down', count: parseCount(count, 'down') }));
  configureCommand(migrate.command('to'), sources.name)
    .description('apply or revert until NAME is the last applied migration (latest, head, last: the newest on disk)')
    .argument('<NAME>', 'a migration folder name (or its 14-digit timestamp), latest, head or last')
    .option(ALLOW_OUT_OF_ORDER, ALLOW_OUT_OF_ORDER_HELP)
    .action(async (name: string, options: OutOfOrderOptions, command: Command) => run(command, { kind: 'to', target: name }, Boolean(options.allowOutOfOrder)));
  registerStatus(migrate, ctx, sources, 'status');
}

function registerStatus(parent: Command, ctx: CliContext, sources: MigratorSources, name: string): void {
  configureCommand(parent.command(name), sources.name)
    .description('each migration: NAME  STATE  APPLIED_AT  [NOTE] (STATE: applied, pending, changed, missing; NOTE: baseline, out of order); reads only')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const { migrationStatusCommand } = await import('../commands/migrator-status.js');
      // No URL still lists the disk (state unknown): the error is thrown where the report expects it.
      const target = await settings.target().catch((error: unknown) => {
        if (!isDbToolError(error)) throw error;
        return error;
      });
      const report = await migrationStatusCommand(() => {
        if (typeof target !== 'string') throw target;
        return target;
      }, settings.migrationDir());
      const { unreachable, ...listing } = report;
      if (options.json) {
        ctx.out(json(unreachable ? { ...listing, error: { code: exitCodeFor(unreachable), message: unreachable.message } } : listing));
      } else {
        if (report.migrations.length === 0) ctx.log.info(`no migrations in ${report.migrationDir}`);
        ctx.out(formatStatusLines(report.migrations));
      }
      // The disk is listed; the states are unknown, and the run fails as it would have.
      if (unreachable) {
        ctx.log.warn('the database cannot be reached: migrations on disk are listed with state unknown');
        throw unreachable;
      }
    });
}

/** `init`: the hectic bundle applied, or with --dry-run its SQL printed. */
function registerInit(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('init'), sources.name)
    .description('apply the hectic bundle (--dry-run: print its SQL, connect to nothing)')
    .action(async (_options: unknown, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const { migratorInitCommand, migratorInitSqlCommand } = await import('../commands/migrator-init.js');
      if (settings.dryRun) {
        ctx.out(migratorInitSqlCommand());
        return;
      }
      // Named once it worked (as migrate does), so that an error stays one line.
      const result = await migratorInitCommand(ctx.log, await settings.target(false));
      if (result.action === 'unchanged') ctx.log.info(`hectic bundle ${result.version} is up to date`);
      await settings.target();
    });
}

/** `create` and `list`: the migration folders on disk. */
function registerFiles(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('create'), sources.name)
    .description('make a new migration folder YYYYMMDDHHMMSS-NAME/ with up.sql and down.sql; prints its path')
    .option('--name <name>', 'name after the timestamp (default: a random pronounceable word)')
    .action(async (options: { name?: string }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const { createMigrationCommand } = await import('../commands/migrator-create.js');
      const created = createMigrationCommand(settings.migrationDir(), { name: options.name, dryRun: settings.dryRun });
      ctx.out(`${created.dir}\n`);
      ctx.log.info(settings.dryRun ? `dry run: would create ${created.name}` : `created migration ${created.name}`);
    });

  configureCommand(program.command('list'), sources.name)
    .description('the migrations on disk, in order: NAME, or NAME: missing down.sql')
    .option('--raw', 'names only')
    .action(async (options: { raw?: boolean }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const migrationDir = settings.migrationDir();
      const { listMigrationsCommand } = await import('../commands/migrator-list.js');
      const migrations = listMigrationsCommand(migrationDir);
      if (migrations.length === 0) ctx.log.info(`no migrations in ${migrationDir}`);
      ctx.out(formatList(migrations, options.raw));
    });
}

/** Builds the program; `prepareMigratorArgs` must have prepared the arguments it parses. */
export function buildMigrator(ctx: CliContext, sources: MigratorSources): Command {
  const program = configureCommand(new Command(sources.name), sources.name)
    .description('Migrations up/down/to/status with drift protection, for any PostgreSQL database.')
    .version(VERSION, '-V, --version')
    .option('-u, --db-url <url>', 'database URL (else DB_URL, then PGURL)')
    .option('-d, --migration-dir <dir>', 'migration folder (else MIGRATION_DIR, then $LOCAL_DIR/db/migration, then ./migration)')
    .option('-v, --set <NAME=VALUE>', 'psql variable for the migrations (repeatable)', collect)
    .option('--force', 'proceed despite a history mismatch or a changed applied migration')
    .option('--dry-run', 'print what would happen; change nothing')
    .option('--inherits <table>', 'accepted for compatibility and ignored', collect)
    .option(`${ENV_FILE_OPTION} <path>`, ENV_FILE_HELP)
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .hook('preAction', (root) => {
      if (root.opts<RootOptions>().inherits) ctx.log.warn('--inherits is ignored by migrator');
    });

  registerInit(program, ctx, sources);
  registerMigrate(program, ctx, sources);
  registerStatus(program, ctx, sources, 'status');
  registerFiles(program, ctx, sources);
  registerLint(program, ctx, sources);
  registerRehearse(program, ctx, sources);
  return program;
}

/** Usage for a bare `migrator` (exit 1, like `database`). */
export const MIGRATOR_USAGE = 'Usage: migrator [-u URL] [-d DIR] <command> [args]\nRun `migrator --help` for the commands.\n';

/** Prepares the arguments and runs the program (used by `database migrator`). */
export async function runMigrator(ctx: CliContext, sources: MigratorSources, argv: readonly string[]): Promise<void> {
  const args = prepareMigratorArgs(argv);
  const program = buildMigrator(ctx, sources);
  nameErrorsBySubcommand(program, sources.name);
  await program.parseAsync(args, { from: 'user' });
}

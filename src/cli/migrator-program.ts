/**
 * The migrator's commander program (SPEC §7), shared by the `migrator` executable and
 * `database migrator ARGS…`, which differ only in where the URL and the migration
 * folder come from when no flag gives them (`MigratorSources`). Each action imports its
 * implementation when it runs, as `database`'s do (see database-program.ts).
 */
import path from 'node:path';
import { Command } from 'commander';
import type { MigrateResult } from '../migrations/migrate.js';
import type { Config } from '../base/config.js';
import { AmbiguousError, BadInputError, isDbToolError, MissingInputError } from '../base/errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { formatPlan, parseCount, type MigrationRequest } from '../migrations/migration-plan.js';
import { json } from './output.js';
import { configureCommand, nameErrorsBySubcommand, type CliContext } from './run.js';
import { VERSION } from './version.js';
import { collect, rootOptions, ENV_FILE_HELP, ENV_FILE_OPTION } from './options.js';

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

interface RootOptions {
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

const TOP_COMMANDS = ['init', 'migrate', 'create', 'list', 'status', 'lint', 'rehearse', 'help'];
const MIGRATE_COMMANDS = ['up', 'down', 'to', 'status'];
const COMMAND_WORDS = new Set([...TOP_COMMANDS, ...MIGRATE_COMMANDS]);
/** Options of the root program, accepted anywhere on the line. */
const GLOBAL_VALUE_OPTIONS = new Set(['-u', '--db-url', '-d', '--migration-dir', '-v', '--set', '--inherits']);
const GLOBAL_FLAGS = new Set(['--force', '--dry-run']);
/** Subcommand options that take a value (their value is never a command word). */
const OTHER_VALUE_OPTIONS = new Set(['--name']);
const PSQL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isGlobalOption(arg: string): 'value' | 'inline' | 'flag' | null {
  if (GLOBAL_FLAGS.has(arg)) return 'flag';
  if (GLOBAL_VALUE_OPTIONS.has(arg)) return 'value';
  const eq = arg.indexOf('=');
  if (arg.startsWith('--') && eq > 0 && GLOBAL_VALUE_OPTIONS.has(arg.slice(0, eq))) return 'inline';
  // -uURL, -dDIR, -vNAME=VALUE
  if (/^-[udv]./.test(arg)) return 'inline';
  return null;
}

/**
 * Prepares the arguments: moves the global options (wherever they are) to the front so
 * commander always gives them to the root program, and refuses lines commander would
 * misread. Two commands at once (`list migrate`) or a command word where a NAME or N is
 * expected (`migrate to up`) → AmbiguousError (exit 2); `migrate` alone → exit 3.
 */
export function prepareMigratorArgs(argv: readonly string[]): string[] {
  const globals: string[] = [];
  const rest: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      operands.push(...argv.slice(i + 1));
      break;
    }
    const kind = isGlobalOption(arg);
    if (kind === 'value') {
      globals.push(arg);
      if (i + 1 < argv.length) globals.push(argv[(i += 1)] ?? '');
      continue;
    }
    if (kind) {
      globals.push(arg);
      continue;
    }
    rest.push(arg);
    if (OTHER_VALUE_OPTIONS.has(arg)) {
      if (i + 1 < argv.length) rest.push(argv[(i += 1)] ?? '');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') operands.push(arg);
  }
  checkCommandWords(operands);
  return [...globals, ...rest];
}

function checkCommandWords(operands: readonly string[]): void {
  const [command, ...args] = operands;
  if (command === undefined || command === 'help' || !TOP_COMMANDS.includes(command)) return;
  let extra = args;
  if (command === 'migrate') {
    const [sub, ...subArgs] = args;
    if (sub === undefined) throw new MissingInputError('migrate needs a subcommand: up, down, to or status (see `migrator help migrate`)');
    if (!MIGRATE_COMMANDS.includes(sub)) {
      if (COMMAND_WORDS.has(sub)) throw new AmbiguousError(`ambiguous arguments: 'migrate ${sub}' names two commands at once`);
      return; // unknown subcommand: commander reports it (exit 9)
    }
    extra = subArgs;
    const word = extra.find((arg) => COMMAND_WORDS.has(arg));
    if (word !== undefined) {
      throw new AmbiguousError(`ambiguous arguments: '${word}' is a command, but 'migrate ${sub}' expects ${sub === 'to' ? 'a migration NAME' : 'N'} there`);
    }
    return;
  }
  const word = extra.find((arg) => COMMAND_WORDS.has(arg));
  if (word !== undefined) throw new AmbiguousError(`ambiguous arguments: two commands at once ('${command}' and '${word}')`);
}

/** `--set NAME=VALUE` words → psql variables; a bad one is refused (exit 1). */
export function parseVariables(words: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(0, eq) : '';
    if (!PSQL_VARIABLE.test(name)) throw new BadInputError(`--set expects NAME=VALUE with NAME a psql variable name, got '${word}'`);
    vars[name] = word.slice(eq + 1);
  }
  return vars;
}

/** `make` runs once, on first call; later calls get its value (the choice is said once). */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function settingsOf(command: Command, ctx: CliContext, sources: MigratorSources): MigratorSettings {
  const options = rootOptions<RootOptions>(command);
  const chosenUrl = once(async () => {
    const url = options.dbUrl ?? sources.defaultUrl();
    const choice = options.dbUrl ? undefined : sources.urlChoice?.();
    const note = choice && (await import('../pg/target-name.js')).conflictNote(...choice);
    if (note) ctx.log.warn(note);
    return url;
  });
  return {
    migrationDir: () => (options.migrationDir ? path.resolve(ctx.config.cwd, options.migrationDir) : sources.defaultMigrationDir()),
    url: () => options.dbUrl ?? sources.defaultUrl(),
    target: async (named = true) => {
      const url = await chosenUrl();
      if (named) ctx.log.info(`target: ${(await import('../pg/target-name.js')).describeTarget(url)}`);
      return url;
    },
    vars: parseVariables(options.set ?? []),
    force: Boolean(options.force),
    dryRun: Boolean(options.dryRun),
  };
}

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
    const migrationDir = settings.migrationDir();
    // psql starts, and connects, while the migrator loads: it is on the way to the first migration.
    const session = settings.dryRun ? undefined : (await import('../migrations/migration-session.js')).openMigrationSession(ctx.config, { url, vars: settings.vars, output: ctx.out });
    const { migrateCommand } = await import('../migrations/migrate.js');
    const result = await migrateCommand(ctx.config, ctx.log, {
      url,
      migrationDir,
      request,
      vars: settings.vars,
      force: settings.force,
      allowOutOfOrder,
      dryRun: settings.dryRun,
      session,
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
      const [{ migrationStatusCommand }, { formatStatusLines }] = await Promise.all([import('../commands/migrator-status.js'), import('../migrations/migration-status.js')]);
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

  configureCommand(program.command('init'), sources.name)
    .description('apply the hectic bundle (--dry-run: print its SQL, connect to nothing)')
    .action(async (_options: unknown, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      if (settings.dryRun) {
        const { bundleSql } = await import('../deploy/bundle.js');
        ctx.out(bundleSql());
        return;
      }
      const { migratorInitCommand } = await import('../migrations/migrator-init.js');
      // Named once it worked (as migrate does), so that an error stays one line.
      const result = await migratorInitCommand(ctx.log, await settings.target(false));
      if (result.action === 'unchanged') ctx.log.info(`hectic bundle ${result.version} is up to date`);
      await settings.target();
    });

  registerMigrate(program, ctx, sources);
  registerStatus(program, ctx, sources, 'status');

  configureCommand(program.command('create'), sources.name)
    .description('make a new migration folder YYYYMMDDHHMMSS-NAME/ with up.sql and down.sql; prints its path')
    .option('--name <name>', 'name after the timestamp (default: a random pronounceable word)')
    .action(async (options: { name?: string }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const { createMigration } = await import('../migrations/migration-create.js');
      const created = createMigration(settings.migrationDir(), { name: options.name, dryRun: settings.dryRun });
      ctx.out(`${created.dir}\n`);
      ctx.log.info(settings.dryRun ? `dry run: would create ${created.name}` : `created migration ${created.name}`);
    });

  configureCommand(program.command('list'), sources.name)
    .description('the migrations on disk, in order: NAME, or NAME: missing down.sql')
    .option('--raw', 'names only')
    .action(async (options: { raw?: boolean }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const migrationDir = settings.migrationDir();
      const { formatList, listMigrationsCommand } = await import('../commands/migrator-list.js');
      const migrations = listMigrationsCommand(migrationDir);
      if (migrations.length === 0) ctx.log.info(`no migrations in ${migrationDir}`);
      ctx.out(formatList(migrations, options.raw));
    });

  registerLint(program, ctx, sources);
  registerRehearse(program, ctx, sources);
  return program;
}

/** `lint [MIGRATION…]` (SPEC §17): exit 1 when anything is flagged. */
function registerLint(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('lint'), sources.name)
    .description("check migrations (default: the pending ones) with PostgreSQL's parser for what hurts a live database: rewrites, long locks, data loss…; exit 1 when anything is flagged")
    .argument('[MIGRATION...]', 'migration folder names, their timestamps, or paths to migration folders')
    .option('--json', 'print one JSON document (same as --format json)')
    .option('--format <format>', 'text, json or sarif (SARIF 2.1.0, for CI annotations)', 'text')
    .action(async (names: string[], options: { json?: boolean; format: string }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const format = options.json ? 'json' : options.format;
      const [{ lintCommand }, output] = await Promise.all([import('../commands/migrator-lint.js'), import('./lint-output.js')]);
      if (!(output.LINT_FORMATS as readonly string[]).includes(format)) throw new BadInputError(`--format expects text, json or sarif, got '${format}'`);
      const report = await lintCommand({ migrationDir: settings.migrationDir, url: settings.url, names }, ctx.config.cwd);
      if (format === 'json') ctx.out(json(output.lintJson(report, ctx.config.cwd)));
      else if (format === 'sarif') ctx.out(json(output.lintSarif(report, ctx.config.cwd)));
      else ctx.out(output.formatLintText(report, ctx.config.cwd));
      ctx.log.info(output.lintSummary(report));
      if (report.findings.length > 0) ctx.exitCode = ExitCode.generic;
    });
}

/** `rehearse` (SPEC §17): the pending migrations on a restored copy of the latest backup; exit 1 over a limit. */
function registerRehearse(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('rehearse'), sources.name)
    .description("apply the pending migrations to a throw-away copy of the latest backup (production's data): per migration its duration, locks and rewrites; exit 1 when a limit is exceeded")
    .option('--max-lock-ms <N>', 'longest a write-blocking lock on an existing table may be held (default 1000)')
    .option('--max-rewrite-size <SIZE>', 'largest table a migration may rewrite, e.g. 500MB (default 100MB)')
    .option('--backup <path>', 'the backup to restore (default $LOCAL_DIR/focus/postgresql-backup)')
    .option('--json', 'print one JSON document')
    .action(async (options: { maxLockMs?: string; maxRewriteSize?: string; backup?: string; json?: boolean }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const [{ rehearseCommand }, output] = await Promise.all([import('../commands/rehearse.js'), import('./rehearse-output.js')]);
      const thresholds = {
        ...(options.maxLockMs !== undefined ? { longLockMs: output.parseMs(options.maxLockMs) } : {}),
        ...(options.maxRewriteSize !== undefined ? { largeTableBytes: output.parseSize(options.maxRewriteSize) } : {}),
      };
      const result = await rehearseCommand(ctx.config, ctx.log, { backupPath: options.backup, migrationDir: settings.migrationDir(), thresholds });
      if (options.json) ctx.out(json(output.rehearseJson(result)));
      else ctx.out(output.formatRehearseText(result));
      if (result.migrations.length === 0) ctx.log.info('no pending migrations: nothing to rehearse');
      else if (result.exceeded) ctx.log.error('rehearsal: a migration exceeded a limit (see the lines marked !)');
      if (result.exceeded) ctx.exitCode = ExitCode.generic;
    });
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

/**
 * `database hydrate | patch | deploy | test | check`: building and testing the database.
 * Each action loads its command when it runs (see database-program.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { plural } from '../../base/text.js';
import type { CliContext } from '../run.js';
import { globalsOf } from './globals.js';

/** -j/--jobs: a whole number of at least 1. */
function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!/^\d+$/.test(value) || jobs < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return jobs;
}

interface BuildFlags {
  patch?: boolean;
  hydrate?: boolean;
  hook?: boolean;
  mock?: boolean;
}

/** `hydrate`: the target built from the sources. */
function registerHydrate(program: Command, ctx: CliContext): void {
  program
    .command('hydrate')
    .description('apply the hectic bundle, load dotenv secrets, run $DATABASE_SOURCE/$HYDRATE_ENTRYPOINT')
    .option('-H, --no-hook', 'do not apply the hectic bundle')
    .option('-m, --mock', 'pass -v USE_MOCK=1 to the sources')
    .action(async (options: { hook: boolean; mock?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const { hydrateCommand } = await import('../../commands/hydrate.js');
      const result = await hydrateCommand(ctx.config, ctx.log, {
        url: globals.url,
        allowRemote: globals.allowRemote,
        inherits: globals.inherits,
        noHook: !options.hook,
        mock: options.mock,
      });
      ctx.log.info(`hydrated from ${result.entrypoint}`);
    });
}

/** `patch`: the developer's test data applied. */
function registerPatch(program: Command, ctx: CliContext): void {
  program
    .command('patch')
    .description('apply $PROFILE_DIR/test-data.sql (created when missing)')
    .option('-e, --edit', 'open $EDITOR on the file first, then apply it')
    .action(async (options: { edit?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const { patchCommand } = await import('../../commands/patch.js');
      const result = await patchCommand(ctx.config, ctx.log, {
        url: globals.url,
        allowRemote: globals.allowRemote,
        inherits: globals.inherits,
        edit: options.edit,
      });
      ctx.log.info(`patched from ${result.file}`);
    });
}

/** `deploy`: the project cluster, fresh, hydrated and patched. */
function registerDeploy(program: Command, ctx: CliContext): void {
  program
    .command('deploy')
    .description('init the cluster (fresh unless --reuse), hydrate, patch')
    .option('-c, --cleanup', 'stop the cluster afterwards (also when a step failed)')
    .option('-P, --no-patch', 'skip patch (test-data.sql)')
    .option('-H, --no-hydrate', 'skip hydrate')
    .option('-m, --mock', 'hydrate with -v USE_MOCK=1')
    .option('--no-hook', 'hydrate without the hectic bundle')
    .option('--reuse', 'keep the existing cluster and only (re)start it (no hydrate, no patch)')
    .action(async (options: BuildFlags & { cleanup?: boolean; reuse?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      if (globals.url) ctx.log.warn('deploy works on the cluster it starts; --url is ignored');
      const { deployCommand } = await import('../../commands/deploy.js');
      const result = await deployCommand(ctx.config, ctx.log, {
        cleanup: options.cleanup,
        reuse: options.reuse || undefined,
        noPatch: options.patch === false,
        noHydrate: options.hydrate === false,
        noHook: options.hook === false,
        mock: options.mock,
        inherits: globals.inherits,
      });
      ctx.log.info(result.stopped ? 'deployed and stopped (--cleanup)' : `deployed: ${result.connection.url}`);
    });
}

/** `test`: the SQL tests, each file in its own copy of the target. */
function registerTest(program: Command, ctx: CliContext): void {
  program
    .command('test')
    .description('run the SQL tests (*.sql below $DATABASE_DIR/test/, or PATHs), each file in its own copy of the target')
    .argument('[paths...]', 'test files and folders (default $DATABASE_DIR/test/)')
    .option('-j, --jobs <n>', 'files run at once (default: the number of CPUs)', parseJobs)
    .option('--junit <file>', 'also write a JUnit XML report to FILE (for CI)')
    .option('-v, --verbose', "print each file's TAP, under a header, as the file finishes")
    .action(async (paths: string[], options: { jobs?: number; junit?: string; verbose?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const [{ testCommand }, { TestReport }] = await Promise.all([import('../../commands/test.js'), import('../render/test-report.js')]);
      const report = new TestReport(ctx, { verbose: Boolean(options.verbose), live: process.stderr });
      try {
        const result = await testCommand(ctx.config, ctx.log, {
          paths,
          url: globals.url,
          inherits: globals.inherits,
          jobs: options.jobs,
          junit: options.junit,
          onEvent: (event) => report.onEvent(event),
        });
        report.finish(result);
        if (!result.ok) ctx.exitCode = ExitCode.generic;
      } finally {
        report.abort();
      }
    });
}

/** `check`: the deploy flow, and the migrations proved, in a throw-away cluster. */
function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('the deploy flow in a private throw-away cluster (never PG_WORKING_DIR), always removed; proves the migrations reproduce the sources')
    .option('-P, --no-patch', 'skip patch (test-data.sql)')
    .option('-H, --no-hook', 'hydrate without the hectic bundle (as `hydrate -H`)')
    .option('--no-hydrate', 'skip hydrate')
    .option('-m, --mock', 'hydrate with -v USE_MOCK=1')
    .option('--no-migrations', 'do not build the migrations from empty and compare them with the sources')
    .action(async (options: BuildFlags & { migrations: boolean }, command: Command) => {
      const globals = globalsOf(command);
      if (globals.url) ctx.log.warn('check works on its own private cluster; --url is ignored');
      const { checkCommand } = await import('../../commands/check.js');
      const result = await checkCommand(ctx.config, ctx.log, {
        noPatch: options.patch === false,
        noHydrate: options.hydrate === false,
        noHook: options.hook === false,
        mock: options.mock,
        noMigrations: options.migrations === false,
        inherits: globals.inherits,
      });
      const proof = result.migrations;
      if (proof && !proof.identical) {
        const [{ formatTextReport }, { page, stdoutPalette }] = await Promise.all([import('../render/diff-report.js'), import('../output.js')]);
        await page(ctx, formatTextReport(proof, stdoutPalette(ctx), 'database check (migrations vs sources)'));
        const count = proof.migrationsApplied.length;
        ctx.log.error(`check failed: the ${plural(count, 'migration')}, run from empty, ${count === 1 ? 'does' : 'do'} not reproduce the sources (report above)`);
        ctx.exitCode = ExitCode.generic;
        return;
      }
      if (result.migrationsSkipped) ctx.log.info(`migrations not proved (${result.migrationsSkipped})`);
      const count = proof?.migrationsApplied.length ?? 0;
      const proved = proof ? ` and its ${plural(count, 'migration')} ${count === 1 ? 'reproduces' : 'reproduce'} it from empty` : '';
      ctx.log.info(`check passed: the database builds from scratch${proved}`);
    });
}

export function registerDeployCommands(program: Command, ctx: CliContext): void {
  registerHydrate(program, ctx);
  registerPatch(program, ctx);
  registerDeploy(program, ctx);
  registerTest(program, ctx);
  registerCheck(program, ctx);
}

/** `database hydrate | patch | deploy | test | check`: building and testing the database. */
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../../base/errors.js';
import { checkCommand } from '../../commands/check.js';
import { deployCommand } from '../../commands/deploy.js';
import { hydrateCommand } from '../../build/hydrate.js';
import { patchCommand } from '../../build/patch.js';
import { testCommand, type TestFileResult } from '../../commands/test.js';
import { redact } from '../../base/log.js';
import { failingTests, formatTapSummary } from '../../build/tap.js';
import type { CliContext } from '../run.js';
import { globalsOf } from './globals.js';

interface BuildFlags {
  patch?: boolean;
  hydrate?: boolean;
  mock?: boolean;
}

/** A path for messages: relative to the current directory when below it. */
function shown(ctx: CliContext, file: string): string {
  const relative = path.relative(ctx.config.cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Prints one test file's TAP on stdout and what went wrong in it on stderr. */
function reportTestFile(ctx: CliContext, result: TestFileResult): void {
  ctx.out(result.output);
  const name = shown(ctx, result.file);
  for (const test of failingTests(result.tap)) {
    ctx.log.error(`${name}: not ok ${test.number}${test.description ? ` - ${test.description}` : ''}`);
  }
  if (result.error) {
    // The plan cannot match when an error stopped the file: only the error is news.
    ctx.log.error(result.error.message);
    if (result.error.details) ctx.log.write(`${redact(result.error.details)}\n`);
  } else {
    for (const problem of result.tap.problems) ctx.log.error(`${name}: ${problem}`);
  }
  if (!result.error && result.tap.tests.length === 0 && !result.tap.plan) {
    ctx.log.warn(`${name}: no TAP output; passed because no SQL error occurred`);
  }
}

export function registerDeployCommands(program: Command, ctx: CliContext): void {
  program
    .command('hydrate')
    .description('apply the hectic bundle, load dotenv secrets, run $DATABASE_SOURCE/$HYDRATE_ENTRYPOINT')
    .option('-H, --no-hook', 'do not apply the hectic bundle')
    .option('-m, --mock', 'pass -v USE_MOCK=1 to the sources')
    .action(async (options: { hook: boolean; mock?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const result = await hydrateCommand(ctx.config, ctx.log, {
        url: globals.url,
        allowRemote: globals.allowRemote,
        inherits: globals.inherits,
        noHook: !options.hook,
        mock: options.mock,
      });
      ctx.log.info(`hydrated from ${result.entrypoint}`);
    });

  program
    .command('patch')
    .description('apply $PROFILE_DIR/test-data.sql (created when missing)')
    .option('-e, --edit', 'open $EDITOR on the file first, then apply it')
    .action(async (options: { edit?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const result = await patchCommand(ctx.config, ctx.log, {
        url: globals.url,
        allowRemote: globals.allowRemote,
        inherits: globals.inherits,
        edit: options.edit,
      });
      ctx.log.info(`patched from ${result.file}`);
    });

  program
    .command('deploy')
    .description('init the cluster (fresh unless --reuse), hydrate, patch')
    .option('-c, --cleanup', 'stop the cluster afterwards (also when a step failed)')
    .option('-P, --no-patch', 'skip patch (test-data.sql)')
    .option('-H, --no-hydrate', 'skip hydrate')
    .option('-m, --mock', 'hydrate with -v USE_MOCK=1')
    .option('--reuse', 'keep the existing cluster and only (re)start it (no hydrate, no patch)')
    .action(async (options: BuildFlags & { cleanup?: boolean; reuse?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      if (globals.url) ctx.log.warn('deploy works on the cluster it starts; --url is ignored');
      const result = await deployCommand(ctx.config, ctx.log, {
        cleanup: options.cleanup,
        reuse: options.reuse || undefined,
        noPatch: options.patch === false,
        noHydrate: options.hydrate === false,
        mock: options.mock,
        inherits: globals.inherits,
      });
      ctx.log.info(result.stopped ? 'deployed and stopped (--cleanup)' : `deployed: ${result.connection.url}`);
    });

  program
    .command('test')
    .description('run $DATABASE_DIR/test/test.sql (or FILEs) and check its TAP output')
    .argument('[files...]', 'test files (default $DATABASE_DIR/test/test.sql)')
    .action(async (files: string[], _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const result = await testCommand(ctx.config, ctx.log, {
        files,
        url: globals.url,
        inherits: globals.inherits,
        onFile: (file) => reportTestFile(ctx, file),
      });
      const summary = formatTapSummary(result.totals);
      if (result.ok) {
        ctx.log.info(summary);
      } else {
        ctx.log.error(summary);
        ctx.exitCode = ExitCode.generic;
      }
    });

  program
    .command('check')
    .description('the deploy flow in a private throw-away cluster (never PG_WORKING_DIR), always removed')
    .option('-P, --no-patch', 'skip patch (test-data.sql)')
    .option('-H, --no-hydrate', 'skip hydrate')
    .option('-m, --mock', 'hydrate with -v USE_MOCK=1')
    .action(async (options: BuildFlags, command: Command) => {
      const globals = globalsOf(command);
      if (globals.url) ctx.log.warn('check works on its own private cluster; --url is ignored');
      await checkCommand(ctx.config, ctx.log, {
        noPatch: options.patch === false,
        noHydrate: options.hydrate === false,
        mock: options.mock,
        inherits: globals.inherits,
      });
      ctx.log.info('check passed: the database builds from scratch');
    });
}

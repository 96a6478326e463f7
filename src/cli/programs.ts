/**
 * The four commander programs, built without running them: the README's CLI reference
 * and the shell completions are generated from these, so they never drift from the code.
 */
import type { Command } from 'commander';
import { loadConfig } from '../base/config.js';
import { createLogger } from '../base/log.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { buildDatabase } from './database-program.js';
import { buildMigrator } from './migrator-program.js';
import { standaloneSources } from './migrator-settings.js';
import { buildPostgresCleanup } from './postgres-cleanup-program.js';
import { buildPostgresInit } from './postgres-init-program.js';
import type { CliContext } from './run.js';

export const PROGRAM_NAMES = ['postgres-init', 'postgres-cleanup', 'database', 'migrator'] as const;
export type ProgramName = (typeof PROGRAM_NAMES)[number];

/** A context for describing programs: an empty environment, so nothing machine-specific shows. */
function describingContext(): CliContext {
  const config = loadConfig({}, '/');
  return {
    config,
    log: createLogger({ level: 'error', noColor: true, forceColor: false }),
    out: () => undefined,
    stdoutIsTTY: false,
    terminal: undefined,
    exitCode: ExitCode.ok,
    exitCodeFor,
  };
}

/** Builds one program for description (help text, completions); its actions are never run. */
export function describeProgram(name: ProgramName): Command {
  const ctx = describingContext();
  switch (name) {
    case 'database':
      return buildDatabase(ctx);
    case 'migrator':
      return buildMigrator(ctx, standaloneSources(ctx.config));
    case 'postgres-init':
      return buildPostgresInit(ctx);
    case 'postgres-cleanup':
      return buildPostgresCleanup(ctx);
  }
}

/** The program and every command below it, depth first, in declaration order. */
export function commandTree(command: Command): Command[] {
  return [command, ...command.commands.flatMap((child) => commandTree(child))];
}

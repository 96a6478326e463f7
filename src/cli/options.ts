/** Option helpers shared by the commander programs. */
import type { Command } from 'commander';

/**
 * `--env-file PATH`, which every program takes. runCli reads it before the programs are
 * built (they need the configuration); the programs declare it for help and completions.
 */
export const ENV_FILE_OPTION = '--env-file';
export const ENV_FILE_HELP = 'read variables from a dotenv file, as if exported (flags still win; repeatable)';

/** Repeatable options: each use adds a value (no default, so help prints no empty list). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The options of the program a (sub)command belongs to: global flags, read from anywhere. */
export function rootOptions<T extends object>(command: Command): T {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<T>();
}

import type { Command } from 'commander';

/** Options every `database` subcommand may use (SPEC §5). */
export interface GlobalOptions {
  url?: string;
  inherits: string[];
  allowRemote?: boolean;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The root program's options, read from any subcommand. */
export function globalsOf(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

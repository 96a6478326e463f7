import type { Command } from 'commander';
import { rootOptions } from '../options.js';

/** Options every `database` subcommand may use (SPEC §5). */
export interface GlobalOptions {
  url?: string;
  inherits: string[];
  allowRemote?: boolean;
}

/** The root program's options, read from any subcommand. */
export function globalsOf(command: Command): GlobalOptions {
  return rootOptions<GlobalOptions>(command);
}

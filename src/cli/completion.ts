/**
 * Shell completions (bash, zsh, fish) generated from the commander programs, so they
 * know every command and option the code has. One script covers all four executables.
 *
 * The programs become a table of nodes, one per command path (`database diff log`):
 * its subcommands, its options (and which take a value, of what kind), and what its
 * positional arguments are. Each shell gets the table in its own syntax plus a small
 * walker that follows the words typed so far down the table.
 */
import type { Argument, Command, Option } from 'commander';
import { BadInputError } from '../base/errors.js';
import { renderBash } from './completion-bash.js';
import { renderFish } from './completion-fish.js';
import { renderZsh } from './completion-zsh.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * What a value may be: `files`, `dirs`, `none` (free text), `words=a,b` (these words),
 * `migrations=a,b` (these words and the migration names on disk).
 */
export type ValueKind = string;

export interface CompletionNode {
  program: string;
  /** Command words after the program name. */
  path: string[];
  subcommands: Array<{ name: string; description: string }>;
  options: Array<{ names: string[]; description: string; value: ValueKind | undefined }>;
  /** Kind of the positional arguments ('' when there are none). */
  positional: ValueKind;
}

/** Words some arguments take, by command path (the rest follows from names and choices). */
const ARGUMENT_WORDS: Record<string, ValueKind> = {
  'migrate up': 'words=all,latest,head',
  'migrate down': 'words=all',
  'migrate to': 'migrations=latest,head,last',
  log: 'words=list',
  'diff log': 'words=list',
};

function valueKindOfName(name: string): ValueKind {
  if (/dir/i.test(name)) return 'dirs';
  if (/path|file/i.test(name)) return 'files';
  return 'none';
}

function optionValue(option: Option): ValueKind | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return `words=${option.argChoices.join(',')}`;
  return valueKindOfName(/<([^>]+)>|\[([^\]]+)\]/.exec(option.flags)?.slice(1).find(Boolean) ?? '');
}

function argumentValue(argument: Argument, path: readonly string[], siblings: readonly string[]): ValueKind {
  const words = path.join(' ');
  for (const [suffix, kind] of Object.entries(ARGUMENT_WORDS)) if (words === suffix || words.endsWith(` ${suffix}`)) return kind;
  if (argument.argChoices) return `words=${argument.argChoices.join(',')}`;
  if (argument.name() === 'command') return `words=${siblings.join(',')}`;
  return valueKindOfName(argument.name());
}

/** One line of a description: its first clause, short enough for a completion menu. */
function shortDescription(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length <= 72 ? line : `${line.slice(0, 71).trimEnd()}…`;
}

function isHelpCommand(command: Command): boolean {
  return command.name() === 'help';
}

/**
 * The nodes of a program. `graft` puts another program's tree under a command (the
 * `database migrator ARGS…` passthrough gets the migrator's commands and options).
 */
export function completionNodes(program: Command, graft: Record<string, Command> = {}): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const visit = (command: Command, path: string[], siblings: string[]): void => {
    const source = graft[path.join(' ')] ?? command;
    const help = source.createHelp();
    const children = help.visibleCommands(source);
    const names = children.filter((child) => !isHelpCommand(child)).map((child) => child.name());
    const args = source.registeredArguments;
    nodes.push({
      program: program.name(),
      path,
      subcommands: children.map((child) => ({ name: child.name(), description: shortDescription(child.summary() || child.description()) })),
      options: help.visibleOptions(source).map((option) => ({
        names: [option.short, option.long].filter((name): name is string => Boolean(name)),
        description: shortDescription(option.description),
        value: optionValue(option),
      })),
      positional: args[0] ? argumentValue(args[0], path, siblings) : '',
    });
    for (const child of children) visit(child, [...path, child.name()], names);
  };
  visit(program, [], []);
  return nodes;
}

export function renderCompletion(shell: string, nodes: readonly CompletionNode[], version: string): string {
  const programs = [...new Set(nodes.map((node) => node.program))];
  switch (shell) {
    case 'bash':
      return renderBash(nodes, programs, version);
    case 'zsh':
      return renderZsh(nodes, programs, version);
    case 'fish':
      return renderFish(nodes, programs, version);
    default:
      throw new BadInputError(`no completion for shell '${shell}': choose ${SHELLS.join(', ')}`);
  }
}

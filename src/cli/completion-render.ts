/** What the three shells' completion scripts share: quoting, node keys, value options, the header. */
import type { CompletionNode, Shell } from './completion.js';

/** A word in single quotes for bash and zsh. */
export function single(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A word in single quotes for fish. */
export function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The case label of a node: `program:command words`. */
export function key(node: CompletionNode): string {
  return `${node.program}:${node.path.join(' ')}`;
}

/**
 * `NAME:KIND` of the options taking a value at this node: its own and its ancestors'
 * (a program's options may follow its subcommands; the walker must skip their values).
 */
export function valueOptions(nodes: readonly CompletionNode[], node: CompletionNode): string[] {
  const ancestors = nodes.filter(
    (candidate) => candidate.program === node.program && candidate.path.every((word, i) => node.path[i] === word) && candidate.path.length <= node.path.length,
  );
  const entries = ancestors
    .sort((a, b) => b.path.length - a.path.length)
    .flatMap((ancestor) => ancestor.options.filter((option) => option.value !== undefined))
    .flatMap((option) => option.names.map((name) => `${name}:${option.value}`));
  return [...new Set(entries)];
}

/** The first lines of a script: what it completes and how it was made. */
export function header(shell: Shell, programs: readonly string[], version: string): string {
  return [
    `# ${shell} completion for ${programs.join(', ')} (db-tool ${version}).`,
    `# Generated from the programs by \`database completion ${shell}\`; see the README, "Shell completions".`,
  ].join('\n');
}

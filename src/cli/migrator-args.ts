/**
 * The migrator's command line before and beside commander: global options moved to the
 * front, lines commander would misread refused, `--set` variables and `migrate up|down`'s
 * N parsed.
 */
import { AmbiguousError, MissingInputError, BadInputError } from '../base/errors.js';

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

/** Parses the N of `migrate up [N|all|latest|head]` (`down` accepts N or all only). */
export function parseCount(word: string | undefined, direction: 'up' | 'down'): number | 'all' {
  if (word === undefined) return 1;
  if (word === 'all' || (direction === 'up' && (word === 'latest' || word === 'head'))) return 'all';
  if (/^[0-9]+$/.test(word) && Number(word) > 0 && Number.isSafeInteger(Number(word))) return Number(word);
  const expected = direction === 'up' ? 'a positive number, all, latest or head' : 'a positive number or all';
  throw new BadInputError(`migrate ${direction}: expected ${expected}, got '${word}'`);
}

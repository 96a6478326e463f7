/**
 * What every executable shares: load the configuration, run a commander program,
 * and turn whatever happens into one clear line and an exit code (SPEC §10–§11).
 */
import { CommanderError, type Command } from 'commander';
import { loadProcessConfig, type Config } from '../base/config.js';
import { ENV_FILE_OPTION } from './options.js';
import { BadInputError, EnvironmentError, InterruptedError, MissingInputError, isDbToolError } from '../base/errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { fsFaultLine, isFsFault, isPathError, pathErrorLine } from '../base/fs-faults.js';
import { INTERRUPT_DEADLINE_MS, interruptedBy, markInterrupted, runInterruptCleanups } from '../base/interrupt.js';
import { createLogger, redact, type ConsoleLogger, type Logger } from '../base/log.js';
import { capLength, escapeControls, shown } from '../base/text.js';
import { trustExtraCaCerts } from '../base/startup-shortcuts.js';

export interface CliContext {
  config: Config;
  log: Logger;
  /** Writes data (reports, listings, JSON) to stdout. */
  out: (text: string) => void;
  stdoutIsTTY: boolean;
  /**
   * The exit code of a run that completed but whose outcome is a failure (differences
   * found, a failing test or check); errors map to their codes through `report`.
   */
  exitCode: number;
  /** How an error that stops the run maps to the exit code (a command may narrow it: `diff`'s 1). */
  exitCodeFor: (error: unknown) => number;
  /** The terminal's size when stdout is one. */
  terminal: { rows: number; columns: number } | undefined;
}

/** Commander error codes → our exit codes. */
function commanderExitCode(error: CommanderError): number {
  switch (error.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return ExitCode.ok;
    case 'commander.help':
      // Help shown instead of running something (options but no subcommand): a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.generic;
    case 'commander.missingArgument':
    case 'commander.optionMissingArgument':
    case 'commander.missingMandatoryOptionValue':
      return ExitCode.missingArgument;
    case 'commander.invalidArgument':
      return ExitCode.generic;
    default:
      return ExitCode.unknownCommand;
  }
}

/**
 * This process's arguments. The bin/ launchers put `--` before them (see bin/database)
 * so that Node leaves `--env-file` to us; that one `--` is not the user's.
 */
export function commandLine(): string[] {
  const args = process.argv.slice(2);
  return args[0] === '--' ? args.slice(1) : args;
}


/**
 * Takes `--env-file PATH` / `--env-file=PATH` (anywhere before `--`, repeatable) out of
 * the arguments: the files must be read before the configuration, which every program
 * is built with. The programs list the option for their help only.
 */
export function takeEnvFiles(argv: readonly string[]): { envFiles: string[]; args: string[] } {
  const envFiles: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    let file: string | undefined;
    if (arg === ENV_FILE_OPTION) {
      file = argv[i + 1];
      i += 1;
    } else if (arg.startsWith(`${ENV_FILE_OPTION}=`)) {
      file = arg.slice(ENV_FILE_OPTION.length + 1);
    } else {
      args.push(arg);
      continue;
    }
    if (!file) throw new MissingInputError(`option '${ENV_FILE_OPTION} <path>' argument missing`);
    envFiles.push(file);
  }
  return { envFiles, args };
}

/** Makes commander report through us instead of exiting on its own. */
export function configureCommand(command: Command, name: string): Command {
  return command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(commanderErrorLine(name, text)),
    });
}

/** Longest message line we print: a value echoed whole must not make a page of error. */
const MESSAGE_MAX = 2000;
/** Longest block of details under a message (a log tail is cut, the log is named). */
const DETAILS_MAX = 8000;

/** A message line as we print it: no password, no control character, not endless. */
export function messageLine(text: string): string {
  return capLength(escapeControls(redact(text)), MESSAGE_MAX);
}

/**
 * Commander's error for `name` on one line (its own `(Did you mean …?)` hint kept on the
 * next); the values it quotes (`unknown command 'x'`) shown as every echoed value is.
 */
function commanderErrorLine(name: string, text: string): string {
  const [message = '', ...rest] = text
    .replace(/^error: /, '')
    .replace(/\n$/, '')
    .split('\n(Did you mean')
    .map((part) => part.replace(/'([^']*)'/g, (_quoted, value: string) => `'${shown(value)}'`));
  const hint = rest.length > 0 ? `\n(Did you mean${messageLine(rest.join(''))}` : '';
  return `${name}: ${messageLine(message)}${hint}\n`;
}

/**
 * A program or command group given options but no command (`migrator --force`): one
 * line pointing to its help, instead of commander's page of usage on stderr.
 */
function refuseMissingCommand(program: Command, rootName: string): void {
  program.on('beforeAllHelp', (context: { error: boolean; command: Command }) => {
    if (!context.error) return;
    const name = commandPath(context.command, rootName);
    process.stderr.write(`${name}: no command given; run \`${name} --help\` for the commands\n`);
    throw new CommanderError(ExitCode.generic, 'commander.help', '(no command given)');
  });
}

/**
 * `database deploy`, `migrator migrate up`: the words that name a command, from its
 * program down; `rootName` names the program when it runs under another name.
 */
export function commandPath(command: Command, rootName?: string): string {
  const names: string[] = [];
  let root = command;
  for (; root.parent; root = root.parent) names.unshift(root.name());
  return [rootName ?? root.name(), ...names].join(' ');
}

/**
 * Gives every subcommand its own name in commander's errors, so that a bad option says
 * where it was given: `database deploy: unknown option '--x'`.
 */
export function nameErrorsBySubcommand(program: Command, rootName: string): void {
  if (!program.parent) refuseMissingCommand(program, rootName);
  for (const command of program.commands) {
    const name = commandPath(command, rootName);
    command.configureOutput({ outputError: (text, write) => write(commanderErrorLine(name, text)) });
    nameErrorsBySubcommand(command, rootName);
  }
}

/**
 * The error as one of ours when it is an expected fault: a full disk or a forbidden
 * folder met by our own fs calls, or a user's path that cannot be used (a symlink loop,
 * a file where a folder should be, a name too long). Anything else is returned as it is.
 */
export function typedError(error: unknown): unknown {
  if (isFsFault(error)) return new EnvironmentError(fsFaultLine(error));
  if (isPathError(error)) return new BadInputError(pathErrorLine(error));
  return error;
}

/** Prints the one line (and details) of the error that stopped the run; returns its exit code. */
function report(thrown: unknown, log: ConsoleLogger | undefined, name: string, exitCodeOf: (error: unknown) => number): number {
  if (thrown instanceof CommanderError) return commanderExitCode(thrown);
  const error = typedError(thrown);
  if (isDbToolError(error)) {
    const write = (line: string) => (log ? log.error(line) : process.stderr.write(`${name}: ${line}\n`));
    write(messageLine(error.message));
    const details = (text: string) => (log ? log.write(text) : process.stderr.write(text));
    if (error.details) details(`${capLength(escapeControls(redact(error.details), { keepLines: true }), DETAILS_MAX)}\n`);
    if (log?.level === 'debug' || log?.level === 'trace') details(`${error.stack}\n`);
    return exitCodeOf(error);
  }
  log?.endProgress();
  const text = redact(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.stderr.write(`${name}: unexpected error: ${escapeControls(text, { keepLines: true })}\n`);
  return exitCodeOf(error);
}

/**
 * A password typed on our own command line (`-u postgresql://u:pw@…`) leaves `ps` as soon
 * as we start: the process title (what /proc/PID/cmdline shows) is rewritten without it.
 */
function hidePasswordsInOwnTitle(name: string, argv: readonly string[]): void {
  const redacted = argv.map((arg) => redact(arg));
  if (redacted.every((arg, index) => arg === argv[index])) return;
  process.title = [name, ...redacted].join(' ');
}

/**
 * A reader that went away (`database diff | head`, a closed terminal) must not crash us
 * before private clusters are torn down: further output is dropped instead.
 */
function dropOutputOnceReaderGone(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      stream.write = (() => true) as typeof stream.write;
    });
  }
}

/** What every action gets: the configuration, the log, stdout and the terminal's size. */
function cliContext(config: Config, log: ConsoleLogger): CliContext {
  return {
    config,
    log,
    out: (text) => log.besideProgress(() => process.stdout.write(text)),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    exitCode: ExitCode.ok,
    exitCodeFor,
    terminal: process.stdout.isTTY && process.stdout.rows > 0 ? { rows: process.stdout.rows, columns: process.stdout.columns || 80 } : undefined,
  };
}

/**
 * Runs a program built by `build` and exits with the right code. SIGINT/SIGTERM run the
 * registered cleanups first, then exit 130/143.
 */
export async function runCli(name: string, build: (ctx: CliContext, args: readonly string[]) => Command, argv: string[]): Promise<never> {
  hidePasswordsInOwnTitle(name, argv);
  let log: ConsoleLogger | undefined;
  let ctx: CliContext | undefined;
  let code: number;
  let signalCleanups: Promise<number> | undefined;
  const exitInterrupted = (signal: NodeJS.Signals): never => {
    log?.endProgress();
    const error = new InterruptedError(signal);
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(exitCodeFor(error));
  };
  // On a signal the cleanups run at once (stopping private servers makes the steps
  // waiting on them fail fast). When there were any, the work then settles and runs its
  // own cleanups again, catching anything it made meanwhile, before we exit 130/143; if
  // it does not settle in time, we exit anyway (watchdogs finish what is left).
  const onSignal = (signal: NodeJS.Signals) => {
    markInterrupted(signal);
    setTimeout(() => exitInterrupted(signal), INTERRUPT_DEADLINE_MS).unref();
    const running = runInterruptCleanups();
    signalCleanups = running;
    void running.then((count) => {
      if (count === 0) exitInterrupted(signal);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  dropOutputOnceReaderGone();
  try {
    const { envFiles, args } = takeEnvFiles(argv);
    const config = loadProcessConfig({ envFiles });
    trustExtraCaCerts(config.extraCaCerts);
    log = createLogger({ level: config.logLevel, noColor: config.noColor, forceColor: config.forceColor });
    ctx = cliContext(config, log);
    const program = build(ctx, args);
    nameErrorsBySubcommand(program, name);
    await program.parseAsync(args, { from: 'user' });
    code = ctx.exitCode;
  } catch (error) {
    code = interruptedBy() ? ExitCode.ok : report(error, log, name, ctx?.exitCodeFor ?? exitCodeFor);
  }
  log?.endProgress();
  const signal = interruptedBy();
  if (signal) {
    await signalCleanups;
    await runInterruptCleanups();
    exitInterrupted(signal);
  }
  await flush();
  process.exit(code);
}

/** Waits for stdout/stderr to drain so a piped report is never cut short. */
function flush(): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write('', () => process.stderr.write('', () => resolve()));
  });
}

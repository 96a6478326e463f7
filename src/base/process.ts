/**
 * The one module that starts external programs. It owns descriptor hygiene (a child
 * only ever gets the descriptors listed here, and a daemon never gets the caller's),
 * dropping to an unprivileged uid/gid when we run as root, and redaction of secrets
 * in command lines that reach a log.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import { MissingProgramError, UserError } from './errors.js';
import { redact } from './log.js';

/** An OS account a child runs as. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export type StdioTarget = 'pipe' | 'inherit' | 'ignore' | number;

export interface RunOptions {
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** Run as this account (only meaningful when we are root). */
  user?: OsUser | undefined;
  /** Sent on stdin, then stdin is closed; an async iterable: written chunk by chunk as it yields. */
  input?: string | AsyncIterable<string>;
  stdout?: StdioTarget;
  stderr?: StdioTarget;
  stdin?: StdioTarget;
  /** Kill the child (SIGTERM, then SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Hint added to the 127 error when the program does not exist. */
  installHint?: string;
  /** Called with stderr text as it arrives (it is collected as well). */
  onStderr?: (text: string) => void;
  /** Aborting it ends the child (SIGTERM); the run then rejects with an AbortError. */
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A command line for logs: quoted where needed, secrets redacted. */
export function describeCommand(program: string, args: readonly string[]): string {
  return redact([program, ...args].map(shellQuote).join(' '));
}

/** Quotes a word for a POSIX shell (also used for remote ssh commands). */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function stdio(options: RunOptions): StdioOptions {
  const stdin = options.input !== undefined ? 'pipe' : (options.stdin ?? 'ignore');
  return [stdin, options.stdout ?? 'pipe', options.stderr ?? 'pipe'];
}

function identity(user: OsUser | undefined): { uid?: number; gid?: number } {
  if (!user || typeof process.geteuid !== 'function' || process.geteuid() !== 0) return {};
  return { uid: user.uid, gid: user.gid };
}

function childEnv(options: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...options.env };
  // A child running as another account must not try to use root's home.
  if (options.user && identity(options.user).uid !== undefined) {
    env.HOME = options.user.home;
    env.USER = options.user.name;
    env.LOGNAME = options.user.name;
  }
  return env;
}

function missingProgram(program: string, hint: string | undefined): MissingProgramError {
  return new MissingProgramError(`required program not found: ${program}${hint ? ` (${hint})` : ''}`);
}

/** Writes what `chunks` yields as it comes, then closes the stream. */
async function writeAll(stream: NodeJS.WritableStream, chunks: AsyncIterable<string>): Promise<void> {
  try {
    for await (const chunk of chunks) stream.write(chunk);
  } finally {
    stream.end();
  }
}

/** Runs a program to completion and collects its output. Never throws for a non-zero exit. */
export function runProgram(program: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        cwd: options.cwd,
        env: childEnv(options),
        stdio: stdio(options),
        signal: options.signal,
        ...identity(options.user),
      });
    } catch (error) {
      reject(spawnError(error, program, options));
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    if (options.input !== undefined && child.stdin) {
      const stdin = child.stdin;
      stdin.on('error', () => undefined); // the child may exit before reading everything
      if (typeof options.input === 'string') stdin.end(options.input);
      else void writeAll(stdin, options.input);
    }
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }, options.timeoutMs);
    }
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(spawnError(error, program, options));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr });
    });
  });
}

/** One program of a pipeline. */
export interface PipeStage {
  program: string;
  args: readonly string[];
}

/** Collects a started child's stderr (and stdout, unless it is piped on) until it exits. */
function collect(child: ChildProcess, program: string, options: RunOptions, readStdout: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    if (readStdout) child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => reject(spawnError(error, program, options)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr }));
  });
}

/**
 * Runs `from | to`: the first program's stdout goes straight into the second's stdin
 * through an OS pipe, never through us (a dump may be large). Returns each side's exit
 * and stderr, and `to`'s stdout; never throws for a non-zero exit.
 */
export async function runPipe(from: PipeStage, to: PipeStage, options: Pick<RunOptions, 'env' | 'cwd' | 'user' | 'signal'>): Promise<{ from: RunResult; to: RunResult }> {
  const start = (stage: PipeStage, stdin: 'ignore' | NodeJS.ReadableStream): ChildProcess => {
    try {
      return spawn(stage.program, stage.args, { cwd: options.cwd, env: childEnv(options), stdio: [stdin as 'ignore', 'pipe', 'pipe'], signal: options.signal, ...identity(options.user) });
    } catch (error) {
      throw spawnError(error, stage.program, options);
    }
  };
  const first = start(from, 'ignore');
  const firstDone = collect(first, from.program, options, false);
  let second: ChildProcess;
  try {
    second = start(to, first.stdout as NodeJS.ReadableStream);
  } catch (error) {
    first.kill('SIGTERM');
    await firstDone.catch(() => undefined);
    throw error;
  }
  // The read end now belongs to the second program: ours would only keep the pipe open.
  first.stdout?.destroy();
  const secondDone = collect(second, to.program, options, true);
  // A second that cannot start must not leave the first writing into nothing.
  secondDone.catch(() => first.kill('SIGTERM'));
  const [fromResult, toResult] = await Promise.all([firstDone, secondDone]);
  return { from: fromResult, to: toResult };
}

function spawnError(error: unknown, program: string, options: RunOptions): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return missingProgram(program, options.installHint);
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(`cannot run ${program}: ${(error as Error).message}`);
  }
  return error as Error;
}

export interface DaemonOptions {
  env: Readonly<Record<string, string>>;
  cwd?: string;
  user?: OsUser | undefined;
  /** File that receives the daemon's stdout and stderr (appended). */
  logFile: string;
}

/**
 * Starts a long-lived program in its own session with stdin on /dev/null and
 * stdout/stderr on a log file, so it holds none of the caller's descriptors:
 * `out=$(postgres-init)` and CI steps return as soon as we exit.
 */
export function spawnDaemon(program: string, args: readonly string[], options: DaemonOptions): ChildProcess {
  const fd = fs.openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: childEnv(options),
      stdio: ['ignore', fd, fd],
      detached: true,
      ...identity(options.user),
    });
    return child;
  } catch (error) {
    throw spawnError(error, program, options);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Runs a quick program synchronously and returns its trimmed stdout, or undefined when
 * it cannot run or fails (for lookups such as `pg_config --bindir`).
 */
export function readProgramOutput(program: string, args: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  const result = spawnSync(program, args, { env: { ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Runs an interactive program (editor, pager) on the caller's terminal. */
export function runInteractive(command: string, args: readonly string[], options: { env: Readonly<Record<string, string>>; input?: string }): Promise<number> {
  // EDITOR and PAGER may hold arguments ("less -R", "code --wait"): let the shell split them.
  const script = `${command} ${args.map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], {
      env: { ...options.env },
      stdio: [options.input !== undefined ? 'pipe' : 'inherit', 'inherit', 'inherit'],
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * Runs a /bin/sh script detached from us (its own session and process group, no
 * descriptors of ours): background work that may outlive the command.
 */
export function spawnDetachedScript(config: { env: Readonly<Record<string, string>> }, script: string, args: readonly string[]): void {
  const child = spawn('/bin/sh', ['-c', script, 'db-tool', ...args], { env: { ...config.env }, stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** Deletes a folder in a detached `rm -rf` that outlives us (the path is ours to delete). */
export function removeInBackground(config: { env: Readonly<Record<string, string>> }, target: string): void {
  spawnDetachedScript(config, 'rm -rf -- "$1"', [target]);
}

/** True while `pid` exists (a process of another user counts: kill(0) says EPERM then). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

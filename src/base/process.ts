/**
 * The one module that starts external programs. It owns descriptor hygiene (a child
 * only ever gets the descriptors listed here, and a daemon never gets the caller's),
 * dropping to an unprivileged uid/gid when we run as root, redaction of secrets in
 * command lines that reach a log, and the rule that a program we run ends with us
 * (see `ChildGroup`). How a child is launched is in child-launch.ts, its process group
 * in child-group.ts, a failure said in one line in program-failure.ts; none of them spawns.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ChildGroup, REAPED_BY, REAPER_SCRIPT } from './child-group.js';
import { childLaunch, identity, REAPED_MARK, spawnError, stdio, writeAll } from './child-launch.js';
import { shellQuote } from './shell-quote.js';

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
  /** Called with stdout text as it arrives, instead of collecting it. */
  onStdout?: (text: string) => void;
  /** Aborting it ends the child (SIGTERM); the run then rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * How to stop the child when we are interrupted or `signal` aborts (default SIGTERM).
   * psql wants SIGINT: it then cancels its running query on the server, which SIGTERM
   * would leave running (a pg_sleep, a lock held) after psql is gone.
   */
  stopSignal?: NodeJS.Signals;
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let groupReaper: WatchdogProcess | undefined;

/**
 * Starts the reaper of this process's child groups, before the first of them: a child
 * is only safe from outliving us once the reaper knows it, so nothing slow may come
 * between a spawn and telling the reaper (and what is started in that instant carries
 * our mark). An exit as planned releases it: its sweep is for a death.
 */
function startReaper(env: Readonly<Record<string, string>>): WatchdogProcess {
  if (!groupReaper) {
    const reaper = spawnWatchdog(env, REAPER_SCRIPT, [`${REAPED_BY}=${REAPED_MARK}`]);
    process.once('exit', () => reaper.release());
    groupReaper = reaper;
  }
  return groupReaper;
}

/** Runs a program to completion and collects its output. Never throws for a non-zero exit. */
export function runProgram(program: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      startReaper(options.env);
      const launch = childLaunch(args, options, { reaped: true });
      child = spawn(program, launch.args, {
        cwd: options.cwd,
        env: launch.env,
        stdio: stdio(options),
        signal: options.signal,
        killSignal: options.stopSignal ?? 'SIGTERM',
        detached: true,
        ...identity(options.user),
      });
    } catch (error) {
      reject(spawnError(error, program, options));
      return;
    }
    const group = new ChildGroup(child, startReaper(options.env), options.stopSignal ?? 'SIGTERM', options.signal);
    let stdout = '';
    let stderr = '';
    const onStdout = options.onStdout ?? ((chunk: string) => (stdout += chunk));
    child.stdout?.setEncoding('utf8').on('data', onStdout);
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
    if (options.timeoutMs !== undefined) timer = setTimeout(() => group.stop('SIGTERM'), options.timeoutMs);
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      group.ended();
      reject(spawnError(error, program, options));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      group.ended();
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
  const start = (stage: PipeStage, stdin: 'ignore' | NodeJS.ReadableStream): { child: ChildProcess; group: ChildGroup } => {
    try {
      startReaper(options.env);
      const launch = childLaunch(stage.args, options, { reaped: true });
      const child = spawn(stage.program, launch.args, { cwd: options.cwd, env: launch.env, stdio: [stdin as 'ignore', 'pipe', 'pipe'], signal: options.signal, detached: true, ...identity(options.user) });
      return { child, group: new ChildGroup(child, startReaper(options.env), 'SIGTERM', options.signal) };
    } catch (error) {
      throw spawnError(error, stage.program, options);
    }
  };
  const first = start(from, 'ignore');
  const firstDone = collect(first.child, from.program, options, false).finally(() => first.group.ended());
  let second: ReturnType<typeof start>;
  try {
    second = start(to, first.child.stdout as NodeJS.ReadableStream);
  } catch (error) {
    first.group.stop('SIGTERM');
    await firstDone.catch(() => undefined);
    throw error;
  }
  // The read end now belongs to the second program: ours would only keep the pipe open.
  first.child.stdout?.destroy();
  const secondDone = collect(second.child, to.program, options, true).finally(() => second.group.ended());
  // A second that cannot start must not leave the first writing into nothing.
  secondDone.catch(() => first.group.stop('SIGTERM'));
  const [fromResult, toResult] = await Promise.all([firstDone, secondDone]);
  return { from: fromResult, to: toResult };
}

export interface DaemonOptions {
  env: Readonly<Record<string, string>>;
  cwd?: string;
  user?: OsUser | undefined;
  /**
   * Open descriptor of the file that receives the daemon's stdout and stderr; the caller
   * opens it (never through a link the server account planted) and closes it.
   */
  output: number;
}

/**
 * Starts a long-lived program in its own session with stdin on /dev/null and
 * stdout/stderr on a log file, so it holds none of the caller's descriptors:
 * `out=$(postgres-init)` and CI steps return as soon as we exit.
 */
export function spawnDaemon(program: string, args: readonly string[], options: DaemonOptions): ChildProcess {
  try {
    const launch = childLaunch(args, options);
    return spawn(program, launch.args, {
      cwd: options.cwd,
      env: launch.env,
      stdio: ['ignore', options.output, options.output],
      detached: true,
      ...identity(options.user),
    });
  } catch (error) {
    throw spawnError(error, program, options);
  }
}

/**
 * Runs a quick program synchronously and returns its trimmed stdout, or undefined when
 * it cannot run or fails (for lookups such as `pg_config --bindir`).
 */
export function readProgramOutput(program: string, args: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  // A synchronous call blocks signals: keep it short.
  const result = spawnSync(program, args, { env: { ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 3_000 });
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
export function spawnDetachedScript(config: { env: Readonly<Record<string, string>> }, script: string, args: readonly string[]): number | undefined {
  const child = spawn('/bin/sh', ['-c', script, 'db-tool', ...args], { env: { ...config.env }, stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

/**
 * Deletes a folder in a detached `rm -rf` that outlives us (the path is ours to delete),
 * at low priority so it does not slow down the start it makes room for.
 */
export function removeInBackground(config: { env: Readonly<Record<string, string>> }, target: string): void {
  spawnDetachedScript(config, 'renice -n 19 $$ >/dev/null 2>&1; ionice -c 3 -p $$ >/dev/null 2>&1; rm -rf -- "$1"', [target]);
}

/** A detached process that learns of our death through the end of its stdin. */
export interface WatchdogProcess {
  pid: number | undefined;
  /** Sends one line on the watchdog's stdin. */
  send(line: string): void;
  /** Tells it we are done (it exits doing nothing) and closes its stdin. */
  release(): void;
}

/**
 * Starts `script` under /bin/sh, detached (its own session: no terminal signal reaches
 * it) and holding none of our descriptors but the write end of its stdin. The kernel
 * closes that end when we die, however we die (SIGKILL, the OOM killer), so the script
 * sees end-of-file at once: no polling, no pid reuse to fear. Our later children do not
 * inherit the pipe (Node opens it close-on-exec), so nothing else keeps it open.
 */
export function spawnWatchdog(env: Readonly<Record<string, string>>, script: string, args: readonly string[]): WatchdogProcess {
  const child = spawn('/bin/sh', ['-c', script, 'db-tool-watchdog', ...args], {
    env: { ...env },
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  // Neither the child nor the pipe may keep our event loop alive.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let open = true;
  return {
    pid: child.pid,
    send(line: string) {
      if (open) child.stdin?.write(`${line}\n`);
    },
    release() {
      if (!open) return;
      open = false;
      child.stdin?.end('release\n');
    },
  };
}


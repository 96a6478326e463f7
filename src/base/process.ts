/**
 * The one module that starts external programs. It owns descriptor hygiene (a child
 * only ever gets the descriptors listed here, and a daemon never gets the caller's),
 * dropping to an unprivileged uid/gid when we run as root, redaction of secrets in
 * command lines that reach a log, and the rule that a program we run ends with us
 * (see `ChildGroup`).
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MissingProgramError, EnvironmentError, ProgramFailedError } from './errors.js';
import { makeDirs } from './folders.js';
import { faultInText } from './fs-faults.js';
import { onInterrupt } from './interrupt.js';
import { redact } from './log.js';
import { passwordsOutOfArgs } from './redact.js';

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

/**
 * What a child is started with: the arguments, with connection passwords moved into its
 * environment (never on a command line, where `ps` shows them), and that environment.
 */
function childLaunch(args: readonly string[], options: RunOptions): { args: string[]; env: NodeJS.ProcessEnv } {
  const launch = passwordsOutOfArgs(args, childEnv(options));
  return { args: launch.args, env: launch.env };
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

/**
 * Ends the process groups of the programs we run when we die, however we die (SIGKILL,
 * the OOM killer), through the end of its stdin (see spawnWatchdog): `+PGID:SIG` adds a
 * group, `-PGID` drops it (its leader exited). At end-of-file it sends each group left
 * its stop signal, then SIGTERM, then SIGKILL: a pg_basebackup and its WAL streamer, a
 * tar still unpacking, a psql still running a script end with us.
 */
const REAPER_SCRIPT = [
  'groups=',
  'while IFS= read -r line; do',
  '  case $line in',
  '    +*) groups="$groups ${line#+}" ;;',
  '    -*) kept=; for g in $groups; do [ "${g%:*}" = "${line#-}" ] || kept="$kept $g"; done; groups=$kept ;;',
  '  esac',
  'done',
  '[ -n "$groups" ] || exit 0',
  'for g in $groups; do kill -s "${g#*:}" -- "-${g%:*}" 2>/dev/null; done',
  'sleep 5',
  'for g in $groups; do kill -s TERM -- "-${g%:*}" 2>/dev/null; done',
  'sleep 2',
  'for g in $groups; do kill -s KILL -- "-${g%:*}" 2>/dev/null; done',
].join('\n');

let groupReaper: WatchdogProcess | undefined;

/**
 * Starts the reaper of this process's child groups, before the first of them: a child
 * is only safe from outliving us once the reaper knows it, so nothing slow may come
 * between a spawn and telling the reaper.
 */
function startReaper(env: Readonly<Record<string, string>>): WatchdogProcess {
  groupReaper ??= spawnWatchdog(env, REAPER_SCRIPT, []);
  return groupReaper;
}

/** After a stop signal: SIGTERM, then SIGKILL, for what does not end (ms after the first). */
const ESCALATION: ReadonlyArray<[NodeJS.Signals, number]> = [['SIGTERM', 1_000], ['SIGKILL', 3_000]];

/**
 * A program we run together with whatever it starts. It runs in a process group of its
 * own (`detached`: its own session, so a terminal's Ctrl-C reaches us, not it) and is
 * ended as a whole with `kill(-pgid)`: pg_basebackup's WAL-streaming child would
 * otherwise outlive it, holding a walsender on the server. The group ends on our
 * SIGINT/SIGTERM (its stop signal, then SIGTERM, then SIGKILL), when `signal` aborts or
 * a timeout passes, when its leader exits (what the leader left goes with it), and when
 * we die (the reaper).
 */
class ChildGroup {
  private over = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly forget: () => void;

  constructor(
    private readonly child: ChildProcess,
    env: Readonly<Record<string, string>>,
    private readonly stopSignal: NodeJS.Signals,
    signal?: AbortSignal,
  ) {
    if (child.pid !== undefined) startReaper(env).send(`+${child.pid}:${stopSignal.replace(/^SIG/, '')}`);
    // On SIGINT/SIGTERM our children stop with us: a psql, tar or ssh left running would
    // hold the run up (or outlive it) when the signal was sent to us alone.
    this.forget = onInterrupt(async () => this.stop(this.stopSignal));
    signal?.addEventListener('abort', () => this.stop(this.stopSignal), { once: true });
    child.on('exit', () => this.ended());
  }

  /** Sends `first` to the whole group, then SIGTERM and SIGKILL while it lasts. */
  stop(first: NodeJS.Signals): void {
    if (this.over) return;
    this.send(first);
    for (const [next, afterMs] of ESCALATION) {
      if (next !== first) this.timers.push(setTimeout(() => this.send(next), afterMs).unref());
    }
  }

  /** The leader is gone (or never started): what it left in its group is ended now. */
  ended(): void {
    if (this.over) return;
    this.send('SIGTERM');
    this.over = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.forget();
    if (this.child.pid !== undefined) groupReaper?.send(`-${this.child.pid}`);
  }

  private send(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.over) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone, or was never made: the leader alone, if it is still there.
      this.child.kill(signal);
    }
  }
}

/** Runs a program to completion and collects its output. Never throws for a non-zero exit. */
export function runProgram(program: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      startReaper(options.env);
      const launch = childLaunch(args, options);
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
    const group = new ChildGroup(child, options.env, options.stopSignal ?? 'SIGTERM', options.signal);
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
      const launch = childLaunch(stage.args, options);
      const child = spawn(stage.program, launch.args, { cwd: options.cwd, env: launch.env, stdio: [stdin as 'ignore', 'pipe', 'pipe'], signal: options.signal, detached: true, ...identity(options.user) });
      return { child, group: new ChildGroup(child, options.env, 'SIGTERM', options.signal) };
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

function spawnError(error: unknown, program: string, options: RunOptions): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return missingProgram(program, options.installHint);
  if (code === 'EACCES' || code === 'EPERM') {
    return new EnvironmentError(`cannot run ${program}: ${(error as Error).message}`);
  }
  return error as Error;
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

/** Where full outputs of failed programs go: the cache's logs/, else the temp folder. */
export function faultLogDirs(config: { cacheDir: string; tmpDir: string }): string[] {
  return [path.join(config.cacheDir, 'logs'), config.tmpDir];
}

/** Full outputs kept in a log folder; older ones are pruned. */
const KEPT_FAULT_LOGS = 20;

function pruneFaultLogs(dir: string): void {
  try {
    const logs = fs.readdirSync(dir).filter((name) => name.startsWith('db-tool-') && name.endsWith('.log')).sort();
    for (const old of logs.slice(0, Math.max(0, logs.length - KEPT_FAULT_LOGS))) fs.rmSync(path.join(dir, old), { force: true });
  } catch {
    // pruning is a courtesy
  }
}

/** Writes `text` into the first folder of `dirs` that takes it; undefined when none does (a full disk). */
export function writeFaultLog(dirs: readonly string[], what: string, text: string): string | undefined {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const name = `db-tool-${stamp}-${what.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40)}-${process.pid}.log`;
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      makeDirs(dir, { mode: 0o700 });
      fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
      pruneFaultLogs(dir);
      return file;
    } catch {
      fs.rmSync(file, { force: true });
    }
  }
  return undefined;
}

export interface ProgramFailure {
  /** What failed, as the user knows it: `cp`, `tar`, `pg_basebackup`… */
  what: string;
  /** The folder the program wrote to, named in the message. */
  folder: string;
  /** Folders for the full output, tried in order (see faultLogDirs). */
  logDirs: readonly string[];
  /** Said after the cause, e.g. "; the previous backup is kept". */
  suffix?: string;
}

/** The line of a program's output that says most: the first naming an error, else the first. */
function tellingLine(output: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const line = lines.find((l) => /\b(error|fatal|panic|cannot|failed)\b/i.test(l)) ?? lines[0];
  return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * A failed external program as one short line (SPEC §12): the machine fault it hit
 * (e.g. "no space left on device in …") or its most telling line, and where its full
 * output is. A page of `cp: cannot create regular file` lines never reaches the user.
 */
export function programFailure(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, failure: ProgramFailure): ProgramFailedError {
  const output = redact([result.stderr, result.stdout].map((text) => text.trim()).filter(Boolean).join('\n'));
  const fault = faultInText(output);
  const cause = fault ? `${fault} in ${failure.folder}` : `${tellingLine(output) ?? `exit ${result.code}`} (in ${failure.folder})`;
  const suffix = failure.suffix ?? '';
  if (output.split('\n').length <= 1 && !fault) return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix}`);
  const log = writeFaultLog(failure.logDirs, failure.what, output);
  if (log) return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix} (full output in ${log})`);
  return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix}`, output.split('\n').slice(-5).join('\n'));
}


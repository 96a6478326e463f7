/**
 * How process.ts starts a child: its descriptors, the account it runs as and that
 * account's environment, passwords moved off its command line, and the error a failed
 * start becomes.
 */
import { randomBytes } from 'node:crypto';
import { REAPED_BY } from './child-group.js';
import { MissingProgramError, EnvironmentError } from './errors.js';
import { passwordsOutOfArgs } from './redact.js';
import type { OsUser, RunOptions, StdioTarget } from './process.js';

/** The child's stdin, stdout and stderr. */
export function stdio(options: RunOptions): [StdioTarget, StdioTarget, StdioTarget] {
  const stdin = options.input !== undefined ? 'pipe' : (options.stdin ?? 'ignore');
  return [stdin, options.stdout ?? 'pipe', options.stderr ?? 'pipe'];
}

export function identity(user: OsUser | undefined): { uid?: number; gid?: number } {
  if (!user || typeof process.geteuid !== 'function' || process.geteuid() !== 0) return {};
  return { uid: user.uid, gid: user.gid };
}

/** This process's mark on the programs it runs and the reaper ends (REAPER_SCRIPT): `<pid>-<random>`. */
export const REAPED_MARK = `${process.pid}-${randomBytes(6).toString('hex')}`;

/**
 * What a child is started with: the arguments, with connection passwords moved into its
 * environment (never on a command line, where `ps` shows them), and that environment;
 * with our mark when it is `reaped` (not a daemon meant to outlive us).
 */
export function childLaunch(args: readonly string[], options: RunOptions, { reaped = false } = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  const launch = passwordsOutOfArgs(args, childEnv(options));
  return { args: launch.args, env: reaped ? { ...launch.env, [REAPED_BY]: REAPED_MARK } : launch.env };
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
export async function writeAll(stream: NodeJS.WritableStream, chunks: AsyncIterable<string>): Promise<void> {
  try {
    for await (const chunk of chunks) stream.write(chunk);
  } finally {
    stream.end();
  }
}

export function spawnError(error: unknown, program: string, options: RunOptions): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return missingProgram(program, options.installHint);
  if (code === 'EACCES' || code === 'EPERM') {
    return new EnvironmentError(`cannot run ${program}: ${(error as Error).message}`);
  }
  return error as Error;
}

/**
 * SQL written by the user (hydrate sources, test data, tests, migrations) runs through
 * psql, so \i, \ir, \if, \set and -v variables keep working. When it fails we show
 * where: file, line and the offending line, not just psql's last words.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqlFailedError } from '../base/errors.js';
import { pgProgram, type PgPrograms } from './pg-bin.js';
import { runProgram, type RunResult } from '../base/process.js';
import { makeDirs } from '../base/folders.js';
import { shown } from '../base/text.js';
import { openLogForAppend } from '../base/safe-files.js';

export interface PsqlOptions {
  url: string;
  /** Script file to run (-f). Relative \ir includes resolve against its folder. */
  file?: string;
  /**
   * Script text to run when no file is given (sent on stdin). An async iterable lets psql
   * start and connect while the script is still being planned.
   */
  sql?: string | AsyncIterable<string>;
  /** psql variables (-v NAME=VALUE). */
  vars?: Readonly<Record<string, string>>;
  /** Stop at the first error (default true). */
  onErrorStop?: boolean;
  /** Where psql's stdout goes: a file path (appended), 'pipe' (returned), 'inherit' or an fd. */
  output?: string | 'pipe' | 'inherit' | number;
  /** Extra psql arguments (e.g. --single-transaction, -At). */
  args?: readonly string[];
  /** Receives psql's stderr (NOTICEs, errors) as it arrives. */
  onStderr?: (text: string) => void;
  cwd?: string;
  /** Aborting it ends psql. */
  signal?: AbortSignal;
}

export interface SqlErrorLocation {
  file: string;
  line: number;
  message: string;
  /** The offending source line, when the file could be read. */
  source: string | undefined;
}

const ERROR_LINE = /^psql:(.+?):(\d+): (?:ERROR|FATAL|error):\s+(.*)$/m;

/** Finds `psql:FILE:LINE: ERROR: …` in psql's stderr and reads the line it points at. */
export function locateSqlError(stderr: string, stdinName?: string): SqlErrorLocation | undefined {
  const match = ERROR_LINE.exec(stderr);
  if (!match?.[1] || !match[2] || match[3] === undefined) return undefined;
  const file = match[1] === '<stdin>' && stdinName ? stdinName : match[1];
  const line = Number(match[2]);
  let source: string | undefined;
  try {
    source = fs.readFileSync(file, 'utf8').split('\n')[line - 1];
  } catch {
    source = undefined;
  }
  return { file, line, message: match[3], source };
}

/** What psql said before its first error (NOTICEs, warnings): the error itself is said elsewhere. */
export function messagesBeforeError(stderr: string): string {
  const error = ERROR_LINE.exec(stderr);
  return error ? stderr.slice(0, error.index) : stderr;
}

/** Where and why a psql run failed, said once: the one formatter of SQL failures. */
export interface PsqlFailure {
  /** `FILE:LINE: message`, or psql's last words when it named no place. */
  where: string;
  location: SqlErrorLocation | undefined;
  /** The offending source line, then the server's DETAIL/HINT/CONTEXT lines; no raw repeat of the error. */
  details: string | undefined;
}

const CONTEXT_LINE = /^(DETAIL|HINT|CONTEXT|QUERY):\s/;

/** The DETAIL/HINT/CONTEXT lines that follow the first error in psql's stderr. */
function errorContext(stderr: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => ERROR_LINE.test(line));
  if (start < 0) return [];
  const context: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^psql:/.test(line)) break;
    if (CONTEXT_LINE.test(line) || (context.length > 0 && /^\s/.test(line) && !/^\s*\^\s*$/.test(line))) context.push(line);
  }
  return context;
}

/** A script that psql ran: its file, and psql's working folder (where `\i` paths start). */
export interface PsqlEntry {
  file: string;
  cwd?: string;
}

const INCLUDE = /^[ \t]*\\(i|ir|include|include_relative)[ \t]+(?:'((?:[^']|'')*)'|(\S+))/gm;
/** Files an include search reads at most: a loop is found long before, a huge tree is not ours to walk. */
const INCLUDE_SEARCH_LIMIT = 2000;

function includesOf(file: string, cwd: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const match of text.matchAll(INCLUDE)) {
    const target = match[2] !== undefined ? match[2].replace(/''/g, "'") : (match[3] ?? '');
    const relative = match[1] === 'ir' || match[1] === 'include_relative';
    found.push(path.resolve(relative ? path.dirname(file) : cwd, target));
  }
  return found;
}

/**
 * The chain of files that include each other in a circle, starting from `entry`
 * (`a.sql → b.sql → a.sql`), or undefined. psql follows such a loop until it runs out of
 * open files or of stack, and then says nothing about the loop.
 */
export function findIncludeLoop(entry: PsqlEntry): string[] | undefined {
  const cwd = entry.cwd ?? process.cwd();
  const done = new Set<string>();
  const chain: string[] = [];
  const visit = (file: string): string[] | undefined => {
    const open = chain.indexOf(file);
    if (open >= 0) return [...chain.slice(open), file];
    if (done.has(file) || done.size >= INCLUDE_SEARCH_LIMIT) return undefined;
    chain.push(file);
    for (const included of includesOf(file, cwd)) {
      const loop = visit(included);
      if (loop) return loop;
    }
    chain.pop();
    done.add(file);
    return undefined;
  };
  return visit(path.resolve(cwd, entry.file));
}

/** The include loop behind a failure that psql told badly (out of files, or a crash), as one line. */
function includeLoopLine(result: Pick<RunResult, 'code' | 'stderr'>, location: SqlErrorLocation | undefined, entry: PsqlEntry | undefined): string | undefined {
  const outOfFiles = /Too many open files/i.test(result.stderr);
  if (!outOfFiles && location) return undefined;
  const start = entry ?? (location ? { file: location.file } : undefined);
  const loop = start && findIncludeLoop(start);
  if (!loop) return undefined;
  const cwd = start.cwd ?? process.cwd();
  const names = loop.map((file) => shown(path.relative(cwd, file) || file));
  return `include loop: ${names.join(' → ')} (psql followed it until it ${outOfFiles ? 'ran out of open files' : 'failed'})`;
}

/**
 * Describes a failed psql run from its stderr (file, line, offending line, server context).
 * `entry`, the script psql ran, lets an include loop be named when psql could not say where.
 */
export function describePsqlFailure(result: Pick<RunResult, 'code' | 'stderr'>, stdinName?: string, entry?: PsqlEntry): PsqlFailure {
  const located = locateSqlError(result.stderr, stdinName);
  const loop = includeLoopLine(result, located, entry);
  if (loop) return { where: loop, location: undefined, details: undefined };
  const location = located;
  const where = location
    ? `${location.file}:${location.line}: ${location.message}`
    : (result.stderr.trim().split('\n').pop() || `psql exited ${result.code}`);
  const details = [location?.source !== undefined ? `  ${location.line} | ${location.source}` : '', ...(location ? errorContext(result.stderr) : [])]
    .filter(Boolean)
    .join('\n');
  return { where, location, details: details || undefined };
}

/** A failed user script: one line saying where, then the offending line and the server's context. */
export class SqlError extends SqlFailedError {
  readonly location: SqlErrorLocation | undefined;

  constructor(what: string, failure: PsqlFailure) {
    super(`${what} failed: ${failure.where}`, failure.details);
    this.location = failure.location;
  }
}

function outputTarget(output: PsqlOptions['output']): { target: 'pipe' | 'inherit' | number; close?: () => void } {
  if (output === undefined) return { target: 'inherit' };
  if (output === 'pipe' || output === 'inherit' || typeof output === 'number') return { target: output };
  makeDirs(path.dirname(output));
  const fd = openLogForAppend(output);
  return { target: fd, close: () => fs.closeSync(fd) };
}

/** How we stop psql: SIGINT makes it cancel the query it runs on the server, then exit. */
export const PSQL_STOP_SIGNAL = 'SIGINT';

/** psql arguments for a run: no psqlrc, quiet, ON_ERROR_STOP, variables. */
export function psqlArgs(options: PsqlOptions): string[] {
  const args = ['-X', '-q', '-d', options.url, '-v', `ON_ERROR_STOP=${options.onErrorStop === false ? 0 : 1}`];
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('-v', `${name}=${value}`);
  args.push(...(options.args ?? []));
  args.push('-f', options.file ?? '-');
  return args;
}

/** Runs a psql script and returns how it went; never throws for a failing script. */
export async function execPsql(config: PgPrograms, options: PsqlOptions): Promise<RunResult> {
  const { target, close } = outputTarget(options.output);
  try {
    return await runProgram(pgProgram(config, 'psql'), psqlArgs(options), {
      env: config.env,
      cwd: options.cwd,
      stopSignal: PSQL_STOP_SIGNAL,
      input: options.file ? undefined : (options.sql ?? ''),
      stdout: target,
      stderr: 'pipe',
      onStderr: options.onStderr,
    });
  } finally {
    close?.();
  }
}

/** Runs a psql script; throws SqlError (exit 1) when psql fails. */
export async function runPsql(config: PgPrograms, what: string, options: PsqlOptions): Promise<RunResult> {
  const result = await execPsql(config, options);
  if (result.code !== 0) throw new SqlError(what, describePsqlFailure(result, undefined, options.file ? { file: options.file, cwd: options.cwd } : undefined));
  return result;
}

/** A psql argument in single quotes, as backslash commands read them (`''` and C-like escapes). */
export function quotePsqlArgument(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** Lines for psql's stdin, handed over as they become known. */
export class PsqlInput implements AsyncIterable<string> {
  private readonly lines: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  write(line: string): void {
    if (this.ended) return;
    this.lines.push(line);
    this.wake?.();
  }

  end(line = ''): void {
    if (line) this.write(line);
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) yield line;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

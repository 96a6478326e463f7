/**
 * A psql that is also our client: the tool's own queries go through the session that
 * will then run the user's script, so a run needs no second connection — and no pg
 * driver — before its script starts (the migrator's hot path, SPEC §13: loading pg and
 * opening its connection cost 30 ms, on the way to the first migration).
 *
 * A query is sent with markers around its one line of output (JSON), which is read
 * back from psql's stdout; `\echo` markers in the script report progress the same way.
 * Everything else psql prints is passed on to `output`, markers taken out.
 *
 * `startPsql` is the same psql with no questions: started and connected now, given its
 * test file later (the test runner's copies).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../base/config.js';
import { type DbToolError, UnreachableError } from '../base/errors.js';
import { redactUrl } from '../base/redact.js';
import { countNewlines, shown } from '../base/text.js';
import { runProgram, type RunResult } from '../base/process.js';
import { pgProgram } from './pg-bin.js';
import { describePsqlFailure, PSQL_STOP_SIGNAL, psqlArgs, PsqlInput, quotePsqlArgument, SqlError, type PsqlOptions } from './psql.js';

export interface PsqlSessionOptions extends Pick<PsqlOptions, 'url' | 'vars' | 'args' | 'cwd' | 'onStderr' | 'signal'> {
  /**
   * Where psql's own output goes: our stdout ('inherit', the default), an fd, collected
   * ('pipe'), or a writer (whole lines; the CLI's, which keeps progress lines apart).
   */
  output?: 'inherit' | 'pipe' | number | ((text: string) => void);
}

/** How the session ended; `stdout` is the output collected with `output: 'pipe'`, markers taken out. */
export interface PsqlSessionResult extends RunResult {
  /** The marks the script printed (`markLine`), in order. */
  marks: string[];
}

export interface PsqlSession {
  /** Runs a query before the script; resolves with its rows (through JSON: timestamps come as text). */
  query<R>(sql: string): Promise<{ rows: R[] }>;
  /** The same, only when `condition` holds (else undefined), without waiting for the condition's answer. */
  queryIf<R>(condition: string, sql: string): Promise<{ rows: R[] } | undefined>;
  /** psql's value of one of its variables (`VERSION_NUM`…); asking costs no round trip to the server. */
  variable(name: string): Promise<string>;
  /** How many lines psql has been sent so far: the script's first line is the next one. */
  readonly linesSent: number;
  /** A psql line that reports `mark` when psql gets there. */
  markLine(mark: string): string;
  /** The text that, printed on a line of psql's stdout, reports `mark` (lowercase letters, digits, `-`). */
  markText(mark: string): string;
  /** Calls `listener` with each mark as psql prints it (the run's progress). */
  onMark(listener: (mark: string) => void): void;
  /** Sends psql more input before its script; false when psql has ended already. */
  write(text: string): boolean;
  /** Hands psql the rest of its input; it exits when done. */
  finish(script: string): Promise<PsqlSessionResult>;
}

interface PendingQuery {
  resolve(text: string): void;
  reject(error: unknown): void;
}

/** psql lines that print the rows of `sql` as one line of JSON. */
function jsonRows(sql: string): string {
  return `\\pset format unaligned\n\\pset tuples_only on\nSELECT coalesce(json_agg(q), '[]') FROM (${sql}) AS q;\n\\pset format aligned\n\\pset tuples_only off\n`;
}

/** The error of a query psql did not answer: it could not connect, or the query failed. */
function unanswered(url: string, result: RunResult): DbToolError {
  const connectionFailure = /^psql: error: (.*)$/m.exec(result.stderr);
  if (connectionFailure?.[1]) return new UnreachableError(`cannot connect to ${shown(redactUrl(url))}: ${connectionFailure[1].trim()}`);
  return new SqlError('a query of the tool', describePsqlFailure(result));
}

export function openPsqlSession(config: Config, options: PsqlSessionOptions): PsqlSession {
  const nonce = randomBytes(6).toString('hex');
  const marker = new RegExp(`__dbtool_${nonce}_([a-z0-9-]+)__`);
  const input = new PsqlInput();
  let linesSent = 0;
  const send = (text: string, end = false): void => {
    linesSent += countNewlines(text);
    if (end) input.end(text);
    else input.write(text);
  };
  const pending = new Map<string, PendingQuery>();
  const marks: string[] = [];
  let markListener: ((mark: string) => void) | undefined;
  let collected = '';
  let capture: { id: string; text: string } | undefined;
  let partial = '';
  let queries = 0;
  let finished = false;
  /** How psql ended, once it has: its result, or why it could not run. */
  let exited: { result: RunResult } | { error: unknown } | undefined;

  const pass = (text: string): void => {
    if (!text) return;
    if (options.output === 'pipe') collected += text;
    else if (typeof options.output === 'number') fs.writeSync(options.output, text);
    else if (typeof options.output === 'function') options.output(text);
    else process.stdout.write(text);
  };
  const onMark = (mark: string): void => {
    const [kind, id] = [mark.slice(0, 1), mark.slice(2)];
    if (kind === 'b') capture = { id, text: '' };
    else if (kind === 'e' && capture) {
      pending.get(capture.id)?.resolve(capture.text);
      pending.delete(capture.id);
      capture = undefined;
    } else if (kind === 'm') {
      marks.push(id);
      markListener?.(id);
    }
  };
  // Whole lines only: a marker may follow output that did not end its line (`\echo -n`).
  const onLine = (line: string, newline: string): void => {
    const found = marker.exec(line);
    const before = found ? line.slice(0, found.index) : line + newline;
    if (capture) capture.text += before;
    else pass(before);
    if (found?.[1]) onMark(found[1]);
  };
  const onStdout = (chunk: string): void => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line, '\n');
  };

  const ended = runProgram(pgProgram(config, 'psql'), psqlArgs({ url: options.url, vars: options.vars, args: options.args }), {
    env: config.env,
    cwd: options.cwd,
    input,
    stdout: 'pipe',
    stderr: 'pipe',
    onStdout,
    onStderr: options.onStderr,
    signal: options.signal,
    stopSignal: PSQL_STOP_SIGNAL,
  }).then(
    (result): PsqlSessionResult => {
      exited = { result };
      if (partial) onLine(partial, '');
      partial = '';
      for (const query of pending.values()) query.reject(unanswered(options.url, result));
      pending.clear();
      return { ...result, stdout: collected, marks };
    },
    (error: unknown) => {
      exited = { error };
      for (const query of pending.values()) query.reject(error);
      pending.clear();
      throw error;
    },
  );
  ended.catch(() => undefined); // seen by the pending query or by finish()
  const text = (mark: string): string => `__dbtool_${nonce}_${mark}__`;
  const line = (mark: string): string => `\\echo ${text(mark)}\n`;
  /** Sends `text`, whose output comes back as the answer. */
  const ask = (text: string): Promise<string> => {
    if (finished) throw new Error('psql session: question after finish');
    if (exited) throw 'error' in exited ? exited.error : unanswered(options.url, exited.result);
    queries += 1;
    const id = `q${queries}`;
    const answer = new Promise<string>((resolve, reject) => pending.set(id, { resolve, reject }));
    send(line(`b-${id}`) + text + line(`e-${id}`));
    return answer;
  };

  return {
    async query<R>(sql: string): Promise<{ rows: R[] }> {
      return { rows: JSON.parse(await ask(jsonRows(sql))) as R[] };
    },
    async queryIf<R>(condition: string, sql: string): Promise<{ rows: R[] } | undefined> {
      // psql decides, so nothing waits for the condition's answer; a NULL counts as false.
      const flag = `dbtool_${nonce}_if`;
      const answer = await ask(
        `SELECT coalesce((${condition}), false) AS ${flag} \\gset\n\\if :${flag}\n${jsonRows(sql)}\\else\n\\echo null\n\\endif\n\\unset ${flag}\n`,
      );
      const rows = JSON.parse(answer) as R[] | null;
      return rows ? { rows } : undefined;
    },
    async variable(name: string): Promise<string> {
      return (await ask(`\\echo :${name}\n`)).trimEnd();
    },
    get linesSent() {
      return linesSent;
    },
    markLine: (mark) => line(`m-${mark}`),
    markText: (mark) => text(`m-${mark}`),
    onMark(listener) {
      markListener = listener;
    },
    write(text: string): boolean {
      if (exited || finished) return false;
      send(text);
      return true;
    },
    finish(script: string): Promise<PsqlSessionResult> {
      finished = true;
      send(script, true);
      return ended;
    },
  };
}

/** A psql that is connected before it is told which file to run. */
export interface StartedPsql {
  /**
   * Connects to another database (`\c URL`) before the file comes; false when this psql
   * has already ended (it could not connect where it started).
   */
  switchTo(url: string): boolean;
  /** Runs FILE (`\i FILE`), then psql exits; the same result as execPsql with `file`. */
  run(file: string): Promise<RunResult>;
  /** Lets psql exit without running anything. */
  discard(): Promise<RunResult>;
}

/**
 * Starts psql now and gives it its file later: it connects at once and waits on stdin,
 * so starting psql and connecting happen while something else runs. `\i FILE` behaves
 * as `-f FILE` does: errors name FILE and line, `\ir` resolves against FILE's folder,
 * ON_ERROR_STOP ends psql with exit code 3. `\c` keeps psql's variables and settings.
 */
export function startPsql(config: Config, options: Omit<PsqlSessionOptions, 'output'>): StartedPsql {
  const psql = openPsqlSession(config, { ...options, output: 'pipe' });
  return {
    switchTo: (url) => psql.write(`\\c ${quotePsqlArgument(url)}\n`),
    run: (file) => psql.finish(`\\i ${quotePsqlArgument(file)}\n`),
    discard: () => psql.finish(''),
  };
}

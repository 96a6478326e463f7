/**
 * A psql session fed as it goes: started (and connected) first, given its script later,
 * so psql's start overlaps the caller's own work (the migrator's run, the test runner's
 * copies). The script reports its progress with marks, lines psql prints on stdout
 * (`markLine`), read back and taken out of the output that is passed on.
 *
 * The tool's own questions do not go through here: they run through `pg` (db.ts, SPEC §2).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { runProgram, type RunResult } from '../base/process.js';
import { pgProgram, type PgPrograms } from './pg-bin.js';
import { PSQL_STOP_SIGNAL, psqlArgs, PsqlInput, quotePsqlArgument, type PsqlOptions } from './psql.js';

export interface PsqlSessionOptions extends Pick<PsqlOptions, 'url' | 'vars' | 'args' | 'cwd' | 'onStderr' | 'signal'> {
  /**
   * Where psql's own output goes: our stdout ('inherit', the default), an fd, collected
   * ('pipe'), or a writer (whole lines; the CLI's, which keeps progress lines apart).
   */
  output?: 'inherit' | 'pipe' | number | ((text: string) => void);
}

/** How the session ended; `stdout` is the output collected with `output: 'pipe'`, marks taken out. */
export interface PsqlSessionResult extends RunResult {
  /** The marks the script printed (`markLine`), in order. */
  marks: string[];
}

export interface PsqlSession {
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

/** Splits psql's stdout into output (passed on) and marks; fed chunks, it works on whole lines. */
class MarkReader {
  readonly marks: string[] = [];
  listener: ((mark: string) => void) | undefined;
  private partial = '';

  constructor(
    private readonly marker: RegExp,
    private readonly pass: (text: string) => void,
  ) {}

  read(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line, '\n');
  }

  /** The last line, which psql did not end. */
  end(): void {
    if (this.partial) this.line(this.partial, '');
    this.partial = '';
  }

  // A mark may follow output that did not end its line (`\echo -n`): that output is kept.
  private line(line: string, newline: string): void {
    const found = this.marker.exec(line);
    this.pass(found ? line.slice(0, found.index) : line + newline);
    const mark = found?.[1];
    if (mark) {
      this.marks.push(mark);
      this.listener?.(mark);
    }
  }
}

/** Where psql's output goes, as a function of text. */
function outputWriter(output: PsqlSessionOptions['output']): { write(text: string): void; collected(): string } {
  let collected = '';
  const write = (text: string): void => {
    if (!text) return;
    if (output === 'pipe') collected += text;
    else if (typeof output === 'number') fs.writeSync(output, text);
    else if (typeof output === 'function') output(text);
    else process.stdout.write(text);
  };
  return { write, collected: () => collected };
}

export function openPsqlSession(config: PgPrograms, options: PsqlSessionOptions): PsqlSession {
  const nonce = randomBytes(6).toString('hex');
  const text = (mark: string): string => `__dbtool_${nonce}_${mark}__`;
  const output = outputWriter(options.output);
  const reader = new MarkReader(new RegExp(`__dbtool_${nonce}_([a-z0-9-]+)__`), output.write);
  const input = new PsqlInput();
  let ended = false;
  const result = runProgram(pgProgram(config, 'psql'), psqlArgs({ url: options.url, vars: options.vars, args: options.args }), {
    env: config.env,
    cwd: options.cwd,
    input,
    stdout: 'pipe',
    stderr: 'pipe',
    onStdout: (chunk) => reader.read(chunk),
    onStderr: options.onStderr,
    signal: options.signal,
    stopSignal: PSQL_STOP_SIGNAL,
  }).then((outcome): PsqlSessionResult => {
    reader.end();
    return { ...outcome, stdout: output.collected(), marks: reader.marks };
  });
  // Seen by finish()'s caller; here only noted, so that nothing more is written to a psql that has gone.
  void result.then(
    () => (ended = true),
    () => (ended = true),
  );
  return {
    markLine: (mark) => `\\echo ${text(mark)}\n`,
    markText: text,
    onMark(listener) {
      reader.listener = listener;
    },
    write(more: string): boolean {
      if (ended) return false;
      input.write(more);
      return true;
    },
    finish(script: string): Promise<PsqlSessionResult> {
      ended = true;
      input.end(script);
      return result;
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
export function startPsql(config: PgPrograms, options: Omit<PsqlSessionOptions, 'output'>): StartedPsql {
  const psql = openPsqlSession(config, { ...options, output: 'pipe' });
  return {
    switchTo: (url) => psql.write(`\\c ${quotePsqlArgument(url)}\n`),
    run: (file) => psql.finish(`\\i ${quotePsqlArgument(file)}\n`),
    discard: () => psql.finish(''),
  };
}

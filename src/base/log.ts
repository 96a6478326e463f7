/**
 * Logs and progress go to stderr; data goes to stdout (SPEC §11). Colour only when
 * the stream is a TTY, unless NO_COLOR / FORCE_COLOR say otherwise. Every message
 * passes through `redact`, so a password in a URL never reaches a log.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { LOG_LEVELS, type LogLevel } from './config.js';

export interface LogSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Logger {
  readonly level: LogLevel;
  readonly color: ChalkInstance;
  /** True when progress and durations are shown (stderr is a TTY). */
  readonly interactive: boolean;
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  notice(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Runs a step; on a TTY shows it in progress and ends it with its duration. */
  step<T>(title: string, run: () => Promise<T>): Promise<T>;
}

export interface LoggerOptions {
  level: LogLevel;
  sink?: LogSink;
  noColor?: boolean;
  forceColor?: boolean;
}

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)(@)/gi;
const CONNINFO_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;
const PGPASSWORD = /(\bPGPASSWORD=)(\S+)/g;

/** Hides passwords in URLs (`postgres://u:secret@h`), conninfo and query strings. */
export function redact(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1***$3')
    .replace(CONNINFO_PASSWORD, '$1***')
    .replace(PGPASSWORD, '$1***');
}

export function colorEnabled(isTTY: boolean, noColor = false, forceColor = false): boolean {
  if (forceColor) return true;
  if (noColor) return false;
  return isTTY;
}

export function createLogger(options: LoggerOptions): Logger {
  const sink: LogSink = options.sink ?? process.stderr;
  const isTTY = Boolean(sink.isTTY);
  const color = new Chalk({ level: colorEnabled(isTTY, options.noColor, options.forceColor) ? 1 : 0 });
  const threshold = LOG_LEVELS.indexOf(options.level);
  const styles: Record<LogLevel, (s: string) => string> = {
    trace: color.gray,
    debug: color.gray,
    info: (s) => s,
    notice: color.cyan,
    warn: color.yellow,
    error: color.red,
  };
  const emit = (level: LogLevel, message: string): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const prefix = level === 'info' || level === 'notice' ? '' : `${level}: `;
    sink.write(`${styles[level](prefix + redact(message))}\n`);
  };
  return {
    level: options.level,
    color,
    interactive: isTTY,
    trace: (m) => emit('trace', m),
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    notice: (m) => emit('notice', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    async step(title, run) {
      const started = performance.now();
      if (isTTY && threshold <= LOG_LEVELS.indexOf('info')) sink.write(color.gray(`… ${title}\r`));
      try {
        const result = await run();
        emit(isTTY ? 'info' : 'debug', `${color.green('✓')} ${title} ${color.gray(formatDuration(performance.now() - started))}`);
        return result;
      } catch (error) {
        emit(isTTY ? 'info' : 'debug', `${color.red('✗')} ${title} ${color.gray(formatDuration(performance.now() - started))}`);
        throw error;
      }
    },
  };
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = createLogger({ level: 'error', sink: { write: () => true } });

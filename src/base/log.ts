/**
 * Logs and progress go to stderr; data goes to stdout (SPEC §11). Colour only when
 * the stream is a TTY, unless NO_COLOR / FORCE_COLOR say otherwise. Every message
 * passes through `redact`, so a password in a URL never reaches a log.
 */
import { createPalette, type Palette } from './palette.js';
import { LOG_LEVELS, type LogLevel } from './config.js';
import { redact } from './redact.js';
import { escapeControls } from './text.js';

export interface LogSink {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width, when the sink is a terminal. */
  columns?: number;
}

export interface Logger {
  readonly level: LogLevel;
  readonly color: Palette;
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
  /** Writes text as it is (already redacted, with its newlines), above any progress lines. */
  write(text: string): void;
}

/** The logger an executable owns: it also takes the progress lines off the screen at the end. */
export interface ConsoleLogger extends Logger {
  /** Removes the lines of steps still running (an error ended the command). */
  endProgress(): void;
  /**
   * Runs `write`, which writes to another stream on the same terminal (stdout), with the
   * progress lines taken off the screen meanwhile and drawn again below its text.
   */
  besideProgress(write: () => void): void;
}

export interface LoggerOptions {
  level: LogLevel;
  sink?: LogSink;
  noColor?: boolean;
  forceColor?: boolean;
}

export { redact } from './redact.js';

export function colorEnabled(isTTY: boolean, noColor = false, forceColor = false): boolean {
  if (forceColor) return true;
  if (noColor) return false;
  return isTTY;
}

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');

/** Text without its terminal escape sequences (colours, cursor moves). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * The bottom of a terminal while steps run: one line per running step (`… title`),
 * redrawn whenever a step starts or ends or a message is logged, so concurrent steps
 * (diff builds its two databases at once) never write over each other. Messages and
 * finished steps are printed above the live lines, which are then drawn again below
 * them. Each live line is cut to the terminal's width, so it takes exactly one row and
 * the cursor can move back over the block. The cursor rests at the start of the last
 * live line.
 */
class ProgressBoard {
  private readonly running: string[] = [];
  private drawn = 0;

  constructor(
    private readonly sink: LogSink,
    private readonly dim: (s: string) => string,
  ) {}

  /** Prints text (whole lines) above the live lines. */
  print(text: string): void {
    this.sink.write(this.erase() + text + this.render());
  }

  start(title: string): void {
    this.running.push(title);
    this.sink.write(this.erase() + this.render());
  }

  /** Ends a step, printing its final line in its place. */
  finish(title: string, line: string): void {
    const index = this.running.indexOf(title);
    if (index >= 0) this.running.splice(index, 1);
    this.print(line);
  }

  clear(): void {
    this.running.length = 0;
    this.sink.write(this.erase());
  }

  beside(write: () => void): void {
    if (this.drawn > 0) this.sink.write(this.erase());
    write();
    if (this.running.length > 0) this.sink.write(this.render());
  }

  private erase(): string {
    if (this.drawn === 0) return '';
    const up = this.drawn > 1 ? `${ESC}[${this.drawn - 1}A` : '';
    this.drawn = 0;
    return `\r${up}${ESC}[J`;
  }

  private render(): string {
    if (this.running.length === 0) return '';
    const width = Math.max(10, (this.sink.columns ?? 80) - 1);
    const lines = this.running.map((title) => this.dim(cut(`… ${title}`, width)));
    this.drawn = lines.length;
    return `${lines.join('\n')}\r`;
  }
}

/** Cuts plain text to `width` characters. */
function cut(text: string, width: number): string {
  const plain = stripAnsi(text);
  return plain.length <= width ? plain : `${plain.slice(0, width - 1)}…`;
}

/** How each level's lines look. */
function levelStyles(color: ConsoleLogger['color']): Record<LogLevel, (s: string) => string> {
  return {
    trace: color.gray,
    debug: color.gray,
    info: (s) => s,
    notice: color.cyan,
    warn: color.yellow,
    error: color.red,
  };
}

export function createLogger(options: LoggerOptions): ConsoleLogger {
  const sink: LogSink = options.sink ?? process.stderr;
  const isTTY = Boolean(sink.isTTY);
  const color = createPalette(colorEnabled(isTTY, options.noColor, options.forceColor));
  const threshold = LOG_LEVELS.indexOf(options.level);
  const showsProgress = isTTY && threshold <= LOG_LEVELS.indexOf('info');
  const board = showsProgress ? new ProgressBoard(sink, color.gray) : undefined;
  const styles = levelStyles(color);
  const write = (text: string): void => {
    if (board) board.print(text);
    else sink.write(text);
  };
  const format = (level: LogLevel, message: string): string | undefined => {
    if (LOG_LEVELS.indexOf(level) < threshold) return undefined;
    const prefix = level === 'info' || level === 'notice' ? '' : `${level}: `;
    return `${styles[level](prefix + redact(message))}\n`;
  };
  // A message may echo input (a folder name, a URL): no terminal codes of its own.
  const emit = (level: LogLevel, message: string): void => {
    const line = format(level, escapeControls(message, { keepLines: true }));
    if (line !== undefined) write(line);
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
    write,
    endProgress: () => board?.clear(),
    besideProgress: (other) => (board ? board.beside(other) : other()),
    async step(title, run) {
      const started = performance.now();
      const shown = escapeControls(redact(title));
      board?.start(shown);
      const end = (mark: string): void => {
        const line = format(isTTY ? 'info' : 'debug', `${mark} ${shown} ${color.gray(formatDuration(performance.now() - started))}`) ?? '';
        if (board) board.finish(shown, line);
        else sink.write(line);
      };
      try {
        const result = await run();
        end(color.green('✓'));
        return result;
      } catch (error) {
        end(color.red('✗'));
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

/**
 * What makes two dumps of the same schema look different although nothing differs:
 * pg_dump's random `\restrict` keys, the server and pg_dump version comments, the
 * `SET` preamble (repeated between objects), verbose-mode comment noise, trailing
 * spaces and runs of blank lines. Pure functions: unit-tested on their own.
 */

/** Whole lines that never carry schema information. */
const VOLATILE_LINES: readonly RegExp[] = [
  /^\\(?:un)?restrict\b/, // pg_dump ≥ 17.6/16.10/15.14: a random key per dump
  /^-- Dumped (?:from database|by pg_dump) version\b/,
  /^-- (?:Started|Completed) on\b/, // --verbose
  /^-- TOC entry\b/, // --verbose / pg_restore -v
  /^-- Dependencies:/, // --verbose
  /^-- PostgreSQL database dump(?: complete)?\s*$/,
];

/** Session settings pg_dump emits before and between objects. */
const SESSION_SETTING = /^(?:SET [A-Za-z_.]+ = .*;|SELECT pg_catalog\.set_config\(.*\);)$/;

/** Every volatile line starts with `\` or `-`: the patterns run on few lines of a dump. */
function mayBeVolatile(firstCode: number): boolean {
  return firstCode === 0x5c || firstCode === 0x2d;
}

export function isVolatileLine(line: string): boolean {
  return mayBeVolatile(line.charCodeAt(0)) && VOLATILE_LINES.some((pattern) => pattern.test(line));
}

export function isSessionSetting(line: string): boolean {
  return SESSION_SETTING.test(line);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d;
}

/**
 * The lines of one object that stay, kept as runs of whole adjacent lines of the dump and
 * cut out as slices, which share the dump's memory: an object that needs no change inside
 * (most do not) is one slice of the dump. Copying every object's lines (arrays of lines,
 * then their joined text) made garbage collection grow faster than the dump (issue 22 §3).
 */
class KeptLines {
  /** Finished runs (a line dropped or trimmed ends a run). */
  private readonly pieces: string[] = [];
  private runFrom = -1;
  private runTo = -1;
  /** Where the text ends: after the last line that is neither blank nor a session setting. */
  private endPieces = 0;
  private endFrom = -1;
  private endTo = -1;
  /** Whether the last kept line is blank; true before the first, so leading blanks go. */
  lastBlank = true;

  constructor(private readonly text: string) {}

  /**
   * Keeps the line `from`–`to` (trailing whitespace cut off). Content (a line neither
   * blank nor a session setting) moves the end of the text past it.
   */
  add(from: number, to: number, isContent: boolean): void {
    // Only the previous line's newline lies between them: the run goes on.
    if (from === this.runTo + 1 && this.text.charCodeAt(this.runTo) === 0x0a) {
      this.runTo = to;
    } else {
      if (this.runFrom >= 0) this.pieces.push(this.text.slice(this.runFrom, this.runTo));
      this.runFrom = from;
      this.runTo = to;
    }
    this.lastBlank = from === to;
    if (isContent) {
      this.endPieces = this.pieces.length;
      this.endFrom = this.runFrom;
      this.endTo = this.runTo;
    }
  }

  toString(): string {
    if (this.endFrom < 0) return '';
    const last = this.text.slice(this.endFrom, this.endTo);
    return this.endPieces === 0 ? last : [...this.pieces.slice(0, this.endPieces), last].join('\n');
  }
}

/**
 * The text of one dump object, `text` from `start` to `end`, without noise: volatile
 * lines dropped, trailing whitespace removed from every line, runs of blank lines
 * collapsed into one (leading ones dropped), and the `SET` lines pg_dump puts *between*
 * objects (they trail the previous object) removed with the blank lines around them. A
 * `SET` inside a function body is never trailing: the body ends with its `$$;` line.
 * Walked by offsets: only lines that may be noise or a setting are cut out to be checked.
 */
export function normalizeObjectText(text: string, start = 0, end = text.length): string {
  const kept = new KeptLines(text);
  for (let from = start; from <= end; ) {
    const newline = text.indexOf('\n', from);
    const lineEnd = newline < 0 || newline > end ? end : newline;
    let to = lineEnd;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to -= 1;
    const blank = to === from;
    const noise = mayBeVolatile(text.charCodeAt(from)) && isVolatileLine(text.slice(from, lineEnd));
    if (!noise && !(blank && kept.lastBlank)) kept.add(from, to, !blank && !isSessionSettingAt(text, from, to));
    from = lineEnd + 1;
  }
  return kept.toString();
}

/** Whether the line `from`–`to` is a session setting (every one starts with `S`). */
function isSessionSettingAt(text: string, from: number, to: number): boolean {
  return text.charCodeAt(from) === 0x53 && isSessionSetting(text.slice(from, to));
}

const TABLE_OPEN = /^CREATE (?:UNLOGGED )?TABLE .* \($/;

/**
 * A `CREATE TABLE` whose column (and inline constraint) lines are sorted, for
 * `--ignore-column-order`: a column added by ALTER TABLE lands last in production while
 * the sources may declare it mid-table. A definition that spans lines moves as one.
 */
export function ignoreColumnOrder(sql: string): string {
  const lines = sql.split('\n');
  const open = lines.findIndex((line) => TABLE_OPEN.test(line));
  if (open < 0) return sql;
  const close = lines.findIndex((line, index) => index > open && line.startsWith(')'));
  if (close < 0) return sql;
  const items: string[][] = [];
  for (const line of lines.slice(open + 1, close)) {
    const last = items[items.length - 1];
    if (/^ {4}\S/.test(line) || !last) items.push([line]);
    else last.push(line);
  }
  const sorted = items
    .map((item) => item.join('\n').replace(/,$/, ''))
    .sort()
    .map((item, index, all) => (index < all.length - 1 ? `${item},` : item));
  return [...lines.slice(0, open + 1), ...sorted, ...lines.slice(close)].join('\n');
}

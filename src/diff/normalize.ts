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
 * The text of one dump object, `text` from `start` to `end`, without noise: volatile
 * lines dropped, trailing whitespace removed from every line, runs of blank lines
 * collapsed into one (leading ones dropped), and the `SET` lines pg_dump puts *between*
 * objects (they trail the previous object) removed with the blank lines around them. A
 * `SET` inside a function body is never trailing: the body ends with its `$$;` line.
 *
 * Lines are kept as offsets into `text`, and lines kept whole one after another are cut
 * out as one piece: an object that needs no change inside (most do not) comes back as a
 * slice of the dump, which shares its memory. Copying every object's lines made garbage
 * collection grow faster than the dump (issue 22 §3).
 */
export function normalizeObjectText(text: string, start = 0, end = text.length): string {
  /** Kept lines as pairs of offsets: from, to (exclusive, trailing whitespace cut). */
  const kept: number[] = [];
  for (let from = start; from <= end; ) {
    const newline = text.indexOf('\n', from);
    const lineEnd = newline < 0 || newline > end ? end : newline;
    let to = lineEnd;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to -= 1;
    const blank = to === from;
    const afterBlank = kept.length === 0 || kept[kept.length - 1] === kept[kept.length - 2];
    const noise = mayBeVolatile(text.charCodeAt(from)) && isVolatileLine(text.slice(from, lineEnd));
    if (!(blank && afterBlank) && !noise) kept.push(from, to);
    from = lineEnd + 1;
  }
  // Popping blank lines too: those directly before the trailing SETs may now end the text.
  while (kept.length > 0) {
    const from = kept[kept.length - 2] ?? 0;
    const to = kept[kept.length - 1] ?? 0;
    if (from === to || isSessionSetting(text.slice(from, to))) kept.length -= 2;
    else break;
  }
  return joinLines(text, kept);
}

/** The kept lines joined by newlines, each run of whole adjacent lines as one slice of `text`. */
function joinLines(text: string, kept: readonly number[]): string {
  const pieces: string[] = [];
  let runFrom = -1;
  let runTo = -1;
  for (let index = 0; index < kept.length; index += 2) {
    const from = kept[index] ?? 0;
    const to = kept[index + 1] ?? 0;
    // The line right after a kept whole line: only the newline lies between them.
    if (from === runTo + 1 && text.charCodeAt(runTo) === 0x0a) {
      runTo = to;
      continue;
    }
    if (runFrom >= 0) pieces.push(text.slice(runFrom, runTo));
    runFrom = from;
    runTo = to;
  }
  if (runFrom >= 0) pieces.push(text.slice(runFrom, runTo));
  return pieces.length === 1 ? (pieces[0] ?? '') : pieces.join('\n');
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

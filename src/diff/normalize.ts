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

export function isVolatileLine(line: string): boolean {
  // Every volatile line starts with `\` or `-`: the patterns run on few lines of a dump.
  const first = line.charCodeAt(0);
  if (first !== 0x5c && first !== 0x2d) return false;
  return VOLATILE_LINES.some((pattern) => pattern.test(line));
}

export function isSessionSetting(line: string): boolean {
  return SESSION_SETTING.test(line);
}

function endsInSpace(line: string): boolean {
  const last = line.charCodeAt(line.length - 1);
  return last === 0x20 || last === 0x09 || last === 0x0d;
}

/** Removes trailing whitespace from every line and collapses runs of blank lines into one. */
export function tidyLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = endsInSpace(raw) ? raw.replace(/[ \t\r]+$/, '') : raw;
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/**
 * The text of one dump object without noise: volatile lines dropped, and the `SET`
 * lines pg_dump puts *between* objects (they trail the previous object) removed. A
 * `SET` inside a function body is never trailing: the body ends with its `$$;` line.
 */
export function normalizeObjectText(lines: readonly string[]): string {
  const kept: string[] = [];
  for (const line of lines) if (!isVolatileLine(line)) kept.push(line);
  const tidy = tidyLines(kept);
  // Popping blank lines too: those directly before the trailing SETs may now end the text.
  while (tidy.length > 0) {
    const last = tidy[tidy.length - 1] ?? '';
    if (last === '' || isSessionSetting(last)) tidy.pop();
    else break;
  }
  return tidy.join('\n');
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

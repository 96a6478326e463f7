/**
 * Sending a SQL file's text to psql in place of `\i FILE`, so that the tool's own
 * statements can ride in the same query as the file's last statement (one round trip
 * fewer per migration, SPEC §13).
 *
 * psql reads both the same way but for these differences, which is why only some files
 * qualify:
 *   - Backslash commands could change psql's own state or resolve `\ir` against the
 *     file's folder: a file with any backslash is not inlined (E'' escapes included).
 *   - At the end of a file psql sends whatever is left unterminated; inline, that text
 *     would run into the next line. So the file must end outside any quote, comment or
 *     parenthesis, with a `;` followed by nothing but whitespace and `--` comments.
 *     (`BEGIN ATOMIC` bodies have psql track `;`s by keywords: such files are not
 *     inlined.)
 *   - `COPY … FROM STDIN` reads the lines after it: from a file its data, inline the
 *     lines that follow the file. A file that says STDIN is not inlined.
 * Messages then name `<stdin>` and its line: `stdinLineMap` puts the file and its line
 * back.
 */
import { isUtf8 } from 'node:buffer';
import { countNewlines } from '../base/text.js';

/** A file that can be sent inline, split at its final `;`. */
export interface InlineSql {
  /** The text before the final statement's `;`. */
  head: string;
  /** The text after it: whitespace and `--` comments only. */
  rest: string;
  /** How many lines the file has (its last line need not end with a newline). */
  lineCount: number;
}

/**
 * The SQL tokens that matter here, one per match; what lies between them is plain SQL.
 * Quoted strings and identifiers (an unterminated one matches its lone quote), `--`
 * comments, the start of a block comment, a dollar-quote delimiter, a word (which may
 * hold `$`, so `a$b$` is no delimiter), parentheses and `;`, any other character.
 */
const TOKEN = /'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*"|['"]|--[^\n]*|\/\*|\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|\S/g;

/** Index just past the block comment whose `/*` ends at `from` (they nest), or -1. */
function blockCommentEnd(text: string, from: number): number {
  let depth = 1;
  let at = from;
  while (depth > 0) {
    const open = text.indexOf('/*', at);
    const close = text.indexOf('*/', at);
    if (close < 0) return -1;
    depth += open >= 0 && open < close ? 1 : -1;
    at = (open >= 0 && open < close ? open : close) + 2;
  }
  return at;
}

/** The text of a file psql may read inline, or undefined when it must be `\i`-ed. */
export function inlineSql(bytes: Buffer): InlineSql | undefined {
  // Bytes that are not UTF-8 would not survive the trip through a string.
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  if (text.includes('\\') || text.includes('\0')) return undefined;
  let depth = 0;
  let terminator = -1;
  /** Whether something other than whitespace and `--` comments follows the last `;`. */
  let pending = false;
  const tokens = new RegExp(TOKEN);
  for (let match = tokens.exec(text); match; match = tokens.exec(text)) {
    const token = match[0];
    if (token.startsWith('--')) continue;
    pending = true;
    if (token === "'" || token === '"') return undefined; // left open
    if (token === '/*' || token.startsWith('$')) {
      const end = token === '/*' ? blockCommentEnd(text, tokens.lastIndex) : text.indexOf(token, tokens.lastIndex);
      if (end < 0) return undefined; // left open
      tokens.lastIndex = token === '/*' ? end : end + token.length;
    } else if (token === '(') depth += 1;
    else if (token === ')') depth = Math.max(0, depth - 1);
    else if (token === ';' && depth === 0) {
      terminator = match.index;
      pending = false;
    } else if (token.length === 5 || token.length === 6) {
      const word = token.toLowerCase();
      if (word === 'atomic' || word === 'stdin') return undefined;
    }
  }
  if (terminator < 0 || pending || depth !== 0) return undefined;
  // A newline that ends the text starts no line.
  const lineCount = countNewlines(text) + (text.endsWith('\n') ? 0 : 1);
  return { head: text.slice(0, terminator), rest: text.slice(terminator + 1), lineCount };
}

/** Where a stretch of psql's stdin came from: lines `first`… of `file`. */
export interface StdinSource {
  /** The stdin line (1-based) that holds the file's first line. */
  first: number;
  lineCount: number;
  file: string;
}

const STDIN_PREFIX = /^psql:<stdin>:(\d+):/gm;

/** psql's messages with `psql:<stdin>:N:` turned back into `psql:FILE:LINE:` where N came from a file. */
export function stdinLineMap(stderr: string, sources: readonly StdinSource[]): string {
  if (sources.length === 0) return stderr;
  return stderr.replace(STDIN_PREFIX, (prefix, line: string) => {
    const n = Number(line);
    const source = sources.find((candidate) => n >= candidate.first && n < candidate.first + candidate.lineCount);
    return source ? `psql:${source.file}:${n - source.first + 1}:` : prefix;
  });
}

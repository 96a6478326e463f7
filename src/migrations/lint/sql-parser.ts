/**
 * A migration file as PostgreSQL's own parser sees it (libpg-query: the server's parser
 * compiled to WebAssembly). The module is loaded once, on first use, and only by lint: it
 * weighs 1.8 MB and takes a good part of a second to load on a busy machine (SPEC §17).
 *
 * psql's backslash commands are not SQL: the server's lexer finds them (a `\` token
 * outside any literal, to the end of its line, as psql reads them), they are blanked out
 * before parsing (offsets and lines stay where they were), and `\i`/`\ir` are followed:
 * the included file's statements take the place of the command. Locations are byte
 * offsets into the UTF-8 text (the parser's); lines are counted from them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from 'libpg-query';

type PgQuery = typeof import('libpg-query');

let loading: Promise<PgQuery> | undefined;

/** The parser, loaded on first use (once per process). */
export function loadParser(): Promise<PgQuery> {
  loading ??= import('libpg-query').then(async (module) => {
    await module.loadModule();
    return module;
  });
  return loading;
}

/** A `--` or `/* … *\/` comment, with the line it starts on. */
export interface SqlComment {
  line: number;
  text: string;
}

/** One statement: its syntax tree, where it is, and the comments that speak about it. */
export interface SqlStatement {
  node: Node;
  file: string;
  /** 1-based line of its first token, and of its last. */
  line: number;
  endLine: number;
  text: string;
  /** Comments right before it (since the previous statement), inside it, or after it on its last line. */
  comments: SqlComment[];
}

/** A file the parser rejected. */
export interface SqlParseError {
  file: string;
  line: number;
  message: string;
}

export interface ParsedSql {
  statements: SqlStatement[];
  errors: SqlParseError[];
}

/** Byte offset → 1-based line. */
function lineIndex(bytes: Buffer): (offset: number) => number {
  const starts = [0];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

interface Include {
  offset: number;
  line: number;
  file: string;
}

const INCLUDE = /^\\(i|ir|include|include_relative)\s+(.+?)\s*$/;

/** The argument of `\i FILE` as psql reads it: a quoted name, or the first word. */
function includeTarget(argument: string): string {
  const quoted = /^'((?:[^']|'')*)'/.exec(argument);
  return quoted ? (quoted[1] ?? '').replace(/''/g, "'") : (argument.split(/\s+/)[0] ?? '');
}

/**
 * Parses one file (and what it includes, `seen` guarding against include loops). A
 * file that does not parse gives one error at the line the parser names.
 */
export function parseSqlFile(pg: PgQuery, file: string, seen: ReadonlySet<string> = new Set()): ParsedSql {
  const bytes = fs.readFileSync(file);
  const lineOf = lineIndex(bytes);
  const text = bytes.toString('utf8');
  // The scanner is there to find comments and backslash commands: a file without `--`,
  // `/*` or a backslash has none, and is only parsed (a third of the work per file).
  if (!text.includes('--') && !text.includes('/*') && !text.includes('\\')) return parseText(pg, file, bytes, lineOf, [], []);
  let tokens;
  try {
    tokens = pg.scanSync(text).tokens;
  } catch {
    // The scanner reports lexical errors badly; the parser says where they are.
    return parseText(pg, file, bytes, lineOf, [], []);
  }
  // Backslash commands: blanked out, includes remembered.
  const blanked = Buffer.from(bytes);
  const includes: Include[] = [];
  const comments: Array<{ start: number; text: string }> = [];
  for (const token of tokens) {
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') {
      comments.push({ start: token.start, text: token.text });
      continue;
    }
    if (!token.text.startsWith('\\') || blanked[token.start] !== 92) continue;
    let end = bytes.indexOf(10, token.start);
    if (end < 0) end = bytes.length;
    const command = bytes.subarray(token.start, end).toString('utf8');
    blanked.fill(32, token.start, end);
    const include = INCLUDE.exec(command);
    if (include) {
      const target = includeTarget(include[2] ?? '');
      // `\i` names a file relative to where psql runs; a migration's is its own folder.
      includes.push({ offset: token.start, line: lineOf(token.start), file: path.resolve(path.dirname(file), target) });
    }
  }
  return parseText(pg, file, blanked, lineOf, comments, includes, new Set([...seen, file]));
}

function parseText(
  pg: PgQuery,
  file: string,
  bytes: Buffer,
  lineOf: (offset: number) => number,
  comments: ReadonlyArray<{ start: number; text: string }>,
  includes: readonly Include[],
  seen: ReadonlySet<string> = new Set([file]),
): ParsedSql {
  let raw;
  try {
    raw = pg.parseSync(bytes.toString('utf8')).stmts ?? [];
  } catch (error) {
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    return { statements: [], errors: [{ file, line: lineOf(Math.max(0, position)), message: (error as Error).message }] };
  }
  const result: ParsedSql = { statements: [], errors: [] };
  const pending = [...includes];
  let commentIndex = 0;
  for (const [index, stmt] of raw.entries()) {
    if (!stmt.stmt) continue;
    const start = stmt.stmt_location ?? 0;
    const end = stmt.stmt_len ? start + stmt.stmt_len : bytes.length;
    while (pending.length > 0 && (pending[0]?.offset ?? 0) < start) includeInto(pg, result, pending.shift() as Include, file, seen);
    const line = lineOf(start);
    const endLine = lineOf(Math.max(start, end - 1));
    const nextStart = raw[index + 1]?.stmt_location ?? Number.POSITIVE_INFINITY;
    const own: SqlComment[] = [];
    // Comments before it and inside it, and one trailing on its last line.
    while (commentIndex < comments.length) {
      const comment = comments[commentIndex] as { start: number; text: string };
      const commentLine = lineOf(comment.start);
      const belongs = comment.start < end || (commentLine === endLine && comment.start < nextStart);
      if (!belongs) break;
      own.push({ line: commentLine, text: comment.text });
      commentIndex += 1;
    }
    result.statements.push({ node: stmt.stmt, file, line, endLine, text: bytes.subarray(start, end).toString('utf8').trim(), comments: own });
  }
  for (const include of pending) includeInto(pg, result, include, file, seen);
  return result;
}

function includeInto(pg: PgQuery, result: ParsedSql, include: Include, from: string, seen: ReadonlySet<string>): void {
  if (seen.has(include.file)) {
    result.errors.push({ file: from, line: include.line, message: `\\i ${include.file} includes itself` });
    return;
  }
  if (!fs.statSync(include.file, { throwIfNoEntry: false })?.isFile()) {
    result.errors.push({ file: from, line: include.line, message: `included file not found: ${include.file}` });
    return;
  }
  const inner = parseSqlFile(pg, include.file, seen);
  result.statements.push(...inner.statements);
  result.errors.push(...inner.errors);
}

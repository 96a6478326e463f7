/**
 * Parsing dotenv text with the project's one set of rules — the rules of
 * `hectic.load_secrets_from_env` in sql/hectic-secret.sql, which parses the secrets file
 * inside PostgreSQL (test/dotenv.test.ts holds both parsers to the same answers):
 *
 *   - blank lines and lines starting with `#` are skipped;
 *   - an optional leading `export ` is ignored;
 *   - the line is split at the first `=`; key and value are trimmed (spaces, tabs);
 *   - one pair of matching surrounding quotes (' or ") is stripped from the value;
 *   - lines end with LF, CRLF or a lone CR (old Mac editors); a UTF-8 byte order mark
 *     at the start is ignored; a later duplicate key wins;
 *   - a non-empty line without `=`, or with an empty key, is an error naming the line
 *     (1-based). The line's content is never echoed: it may hold a secret.
 */

export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line number. */
  line: number;
}

/** On success every KEY=VALUE line in file order (duplicates included: the last one wins). */
export type DotenvParse =
  | { ok: true; entries: DotenvEntry[] }
  | { ok: false; line: number; reason: string };

const BLANKS = /^[ \t]+|[ \t]+$/g;

function trim(text: string): string {
  return text.replace(BLANKS, '');
}

function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1);
  return value;
}

/** The values of parsed entries, a later duplicate winning. */
export function dotenvValues(entries: readonly DotenvEntry[]): Map<string, string> {
  return new Map(entries.map((entry) => [entry.key, entry.value]));
}

export function parseDotenv(text: string): DotenvParse {
  const entries: DotenvEntry[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index += 1) {
    let line = trim(lines[index] ?? '');
    if (line === '' || line.startsWith('#')) continue;
    line = line.replace(/^export[ \t]+/, '');
    const eq = line.indexOf('=');
    if (eq < 0) return { ok: false, line: index + 1, reason: 'expected KEY=VALUE' };
    const key = trim(line.slice(0, eq));
    if (key === '') return { ok: false, line: index + 1, reason: 'empty key before "="' };
    entries.push({ key, value: unquote(trim(line.slice(eq + 1))), line: index + 1 });
  }
  return { ok: true, entries };
}

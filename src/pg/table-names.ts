/**
 * Table names given by users (`diff --tables`, `STAGING_DUMP_TABLES`): an identifier
 * or `schema.identifier`, each part bare or double-quoted. Anything else (patterns,
 * spaces, semicolons) is refused before it reaches a database or a remote shell.
 */
import { BadInputError } from '../base/errors.js';

const PART = String.raw`(?:[\p{L}_][\p{L}\p{N}_$]*|"(?:[^"\u0000]|"")+")`;
const TABLE_NAME = new RegExp(`^${PART}(?:\\.${PART})?$`, 'u');

export function isTableName(name: string): boolean {
  return TABLE_NAME.test(name);
}

/**
 * Splits a list at any of `separators` outside double quotes, dropping empty items
 * (`a, b`, `a b`, `"My Table" public.t`).
 */
export function splitTableList(text: string, separators: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (!quoted && separators.includes(char)) {
      if (current.trim() !== '') items.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') items.push(current.trim());
  return items;
}

/** Throws exit 1 naming the first item that is not a table name; `source` says where it came from. */
export function assertTableNames(names: readonly string[], source: string): void {
  const bad = names.find((name) => !isTableName(name));
  if (bad !== undefined) {
    throw new BadInputError(`${source}: '${bad}' is not a table name (expected name or schema.name, optionally double-quoted)`);
  }
}

/**
 * The schema of a database as a set of objects: `pg_dump --schema-only --no-owner
 * --no-privileges` (with `--privileges`: the grants too), split at pg_dump's
 * `-- Name: …; Type: …; Schema: …` headers into objects keyed by type, schema and name.
 * Keyed objects make the comparison blind to dump order; each object's text is
 * normalised (see normalize.ts).
 *
 * Owners are never compared: `--no-owner` drops the `ALTER … OWNER TO` lines, and in
 * grants (`ACL`, `DEFAULT ACL` objects) the owning role's name is replaced by `<owner>`,
 * so production's `app` and a fresh cluster's superuser read the same.
 */
import type { Config } from '../base/config.js';
import { ProgramFailedError } from '../base/errors.js';
import { serverVersion, versionBoundProgram } from '../pg/client-version.js';
import { runProgram } from '../base/process.js';
import { ignoreColumnOrder, normalizeObjectText } from './normalize.js';

export interface SchemaObject {
  /** `TYPE schema.name` (or `TYPE name` for objects outside a schema): unique in a dump. */
  key: string;
  /** pg_dump's object type: TABLE, FUNCTION, INDEX, CONSTRAINT, COMMENT, … */
  type: string;
  /** The schema, or null for objects that live outside one (extensions, event triggers…). */
  schema: string | null;
  /** pg_dump's name: `t`, `f(integer)`, `t t_pkey`, `TABLE t` (comments)… */
  name: string;
  /** The normalised SQL of the object. */
  sql: string;
}

const HEADER = /^-- (?:Data for )?Name: (.*?); Type: (.*?); Schema: (.*?); Owner: (.*?)(?:; Tablespace: .*)?$/;
const FOOTER = /^-- PostgreSQL database dump complete\s*$/;

interface Header {
  type: string;
  schema: string | null;
  name: string;
  /** The owning role (`-` or empty when pg_dump names none). */
  owner: string;
}

export interface DumpOptions {
  /** Keep grants and default privileges (pg_dump without --no-privileges). */
  privileges?: boolean;
  /** Compare a table's columns whatever their position. */
  ignoreColumnOrder?: boolean;
}

/** Placeholder for the owning role in grants. */
export const OWNER_PLACEHOLDER = '<owner>';

/** pg_dump's spelling of a role name (fmtId): bare when lower-case and plain, else quoted. */
function roleSpelling(role: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(role) ? role : `"${role.replace(/"/g, '""')}"`;
}

/** Replaces the owner's name in a grant's SQL (as a whole word) with the placeholder. */
export function maskOwner(sql: string, owner: string): string {
  if (owner === '' || owner === '-') return sql;
  const spelled = roleSpelling(owner).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return sql.replace(new RegExp(`(?<![\\w"$])${spelled}(?![\\w"$])`, 'g'), OWNER_PLACEHOLDER);
}

const GRANT_TYPES = new Set(['ACL', 'DEFAULT ACL']);

/**
 * A header block: `--`, comment lines (`-- TOC entry …`, `-- Dependencies: …` in
 * verbose dumps) including one `-- Name: …` line, `--`. Returns its last line's index.
 */
function headerAt(lines: readonly string[], index: number): { header: Header; end: number } | undefined {
  if (lines[index] !== '--') return undefined;
  let header: Header | undefined;
  for (let j = index + 1; j <= index + 5 && j < lines.length; j += 1) {
    const line = lines[j] ?? '';
    if (line === '--') return header && { header, end: j };
    if (!line.startsWith('-- ')) return undefined;
    const match = HEADER.exec(line);
    if (match && match[1] !== undefined && match[2] !== undefined && match[3] !== undefined) {
      header = { name: match[1], type: match[2], schema: match[3] === '-' ? null : match[3], owner: match[4] ?? '' };
    }
  }
  return undefined;
}

/**
 * `TABLE public.t`; comments and grants name their object the same way: `COMMENT TABLE
 * public.t` and `ACL TABLE public.t`, not `COMMENT public.TABLE t`.
 */
export function objectKey(header: Pick<Header, 'type' | 'schema' | 'name'>): string {
  if (header.schema === null) return `${header.type} ${header.name}`;
  if (header.type === 'COMMENT' || header.type === 'ACL') {
    const space = header.name.indexOf(' ');
    if (space > 0) return `${header.type} ${header.name.slice(0, space)} ${header.schema}.${header.name.slice(space + 1)}`;
  }
  return `${header.type} ${header.schema}.${header.name}`;
}

/** Up to `count` lines of `text` from offset `start`, with where the last one ends. */
function linesAt(text: string, start: number, count: number): string[] {
  const lines: string[] = [];
  let from = start;
  while (lines.length < count && from <= text.length) {
    const end = text.indexOf('\n', from);
    lines.push(text.slice(from, end < 0 ? text.length : end));
    if (end < 0) break;
    from = end + 1;
  }
  return lines;
}

/** Offset of the first `--` line starting at or after `from`, else -1. */
function nextDashLine(text: string, from: number): number {
  if (from === 0 && text.startsWith('--\n')) return 0;
  const found = text.indexOf('\n--\n', Math.max(0, from - 1));
  return found < 0 ? -1 : found + 1;
}

/**
 * Splits a plain-format dump into objects. Text before the first header (the SET
 * preamble) and the closing footer are not objects. Two entries with one key (rare:
 * pg_dump does not promise unique names) are merged in a stable order.
 *
 * The dump is walked from one `--` line to the next, and only an object's own text is
 * cut into lines: a dump of 5,000 tables as one array of lines cost more in garbage
 * collection than the splitting itself, and grew faster than the dump.
 */
export function splitDump(text: string, options: Pick<DumpOptions, 'ignoreColumnOrder'> = {}): SchemaObject[] {
  const objects = new Map<string, SchemaObject>();
  /** The texts of keys that came more than once. */
  const repeated = new Map<string, string[]>();
  let current: { header: Header; bodyStart: number } | undefined;
  const close = (bodyEnd: number): void => {
    if (!current) return;
    const { type, schema, name, owner } = current.header;
    const body = bodyEnd > current.bodyStart ? text.slice(current.bodyStart, bodyEnd).split('\n') : [];
    let sql = normalizeObjectText(body);
    if (GRANT_TYPES.has(type)) sql = maskOwner(sql, owner);
    if (options.ignoreColumnOrder && type === 'TABLE') sql = ignoreColumnOrder(sql);
    const key = objectKey(current.header);
    const existing = objects.get(key);
    if (existing) {
      const parts = repeated.get(key) ?? [existing.sql];
      parts.push(sql);
      parts.sort();
      repeated.set(key, parts);
      existing.sql = parts.join('\n\n');
    } else {
      objects.set(key, { key, type, schema, name, sql });
    }
    current = undefined;
  };
  let at = nextDashLine(text, 0);
  let end = text.length;
  while (at >= 0) {
    // A header block is at most 7 lines: `--`, up to 5 comment lines, `--`.
    const lines = linesAt(text, at, 7);
    if (FOOTER.test(lines[1] ?? '')) {
      end = at;
      break;
    }
    const block = headerAt(lines, 0);
    if (!block) {
      at = nextDashLine(text, at + 2);
      continue;
    }
    // The body ends with the newline before this header's first line.
    close(at - 1);
    const bodyStart = at + lines.slice(0, block.end + 1).reduce((length, line) => length + line.length + 1, 0);
    current = { header: block.header, bodyStart };
    at = nextDashLine(text, bodyStart);
  }
  close(end === text.length ? end : end - 1);
  return [...objects.values()];
}

/** Runs pg_dump (schema only, no owner; no privileges unless asked for) on `url` and returns its output. */
export async function dumpSchemaText(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, url: string, options: Pick<DumpOptions, 'privileges'> = {}): Promise<string> {
  const args = ['--schema-only', '--no-owner', ...(options.privileges ? [] : ['--no-privileges']), '--dbname', url];
  const result = await runProgram(versionBoundProgram(config, 'pg_dump', await serverVersion(url)), args, { env: config.env });
  if (result.code !== 0) {
    throw new ProgramFailedError(`pg_dump --schema-only failed: ${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`}`, result.stderr.trim());
  }
  return result.stdout;
}

/** The schema of the database at `url`, as keyed objects. */
export async function dumpSchema(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, url: string, options: DumpOptions = {}): Promise<SchemaObject[]> {
  return splitDump(await dumpSchemaText(config, url, options), options);
}

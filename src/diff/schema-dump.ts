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
const FOOTER_START = '-- PostgreSQL database dump complete';
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
  /**
   * The server's (major) version when known already: a cluster of ours says it in its
   * data's PG_VERSION. Else it is asked, on one more connection.
   */
  serverVersion?: string;
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

/** Where the line starting at `from` ends: its newline, or the end of the text. */
function lineEnd(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  return newline < 0 ? text.length : newline;
}

/**
 * The header block at the `--` line at offset `at`: `--`, comment lines (`-- TOC entry
 * …`, `-- Dependencies: …` in verbose dumps) including one `-- Name: …` line, `--`.
 * Returns its header and where the object's body starts (after the closing `--` line).
 */
function headerAt(text: string, at: number): { header: Header; bodyStart: number } | undefined {
  let header: Header | undefined;
  let from = lineEnd(text, at) + 1;
  // At most four comment lines before the closing `--`.
  for (let count = 0; count < 5 && from <= text.length; count += 1) {
    const end = lineEnd(text, from);
    if (end - from === 2 && text.startsWith('--', from)) return header && { header, bodyStart: end + 1 };
    if (!text.startsWith('-- ', from)) return undefined;
    const match = HEADER.exec(text.slice(from, end));
    if (match && match[1] !== undefined && match[2] !== undefined && match[3] !== undefined) {
      header = { name: match[1], type: match[2], schema: match[3] === '-' ? null : match[3], owner: match[4] ?? '' };
    }
    from = end + 1;
  }
  return undefined;
}

/**
 * `TABLE public.t`; comments and grants name their object the same way: `COMMENT TABLE
 * public.t` and `ACL TABLE public.t`, not `COMMENT public.TABLE t`.
 *
 * The parts are joined rather than concatenated: V8 keeps a concatenation as a chain of
 * its pieces, and a Map that hashes it adds a flat copy beside them. Every key stays
 * alive until the comparison ends, and the chains were a third of what the garbage
 * collector had to copy per object (90 of 265 bytes).
 */
export function objectKey(header: Pick<Header, 'type' | 'schema' | 'name'>): string {
  if (header.schema === null) return [header.type, header.name].join(' ');
  if (header.type === 'COMMENT' || header.type === 'ACL') {
    const space = header.name.indexOf(' ');
    if (space > 0) return [header.type, header.name.slice(0, space), `${header.schema}.${header.name.slice(space + 1)}`].join(' ');
  }
  return [header.type, `${header.schema}.${header.name}`].join(' ');
}

/** Whether the line at `from` is pg_dump's closing comment. */
function isFooterAt(text: string, from: number): boolean {
  return text.startsWith(FOOTER_START, from) && FOOTER.test(text.slice(from, lineEnd(text, from)));
}

/** Offset of the first `--` line starting at or after `from`, else -1. */
function nextDashLine(text: string, from: number): number {
  if (from === 0 && text.startsWith('--\n')) return 0;
  const found = text.indexOf('\n--\n', Math.max(0, from - 1));
  return found < 0 ? -1 : found + 1;
}

/**
 * Splits a plain-format dump into objects, in dump order. Text before the first header
 * (the SET preamble) and the closing footer are not objects. pg_dump does not promise
 * unique names: two entries may share a key (rare), and both are kept
 * (`mergeRepeatedKeys` joins them where one object per key is needed).
 *
 * The dump is walked from one `--` line to the next by offsets, and each object is
 * normalised where it lies in the dump: cutting the dump (or each object) into arrays of
 * lines cost more in garbage collection than the splitting itself, and grew faster than
 * the dump (issue 22 §3). So did a hash table of every key, kept to merge repeated keys
 * here.
 */
export function splitDump(text: string, options: Pick<DumpOptions, 'ignoreColumnOrder'> = {}): SchemaObject[] {
  const objects: SchemaObject[] = [];
  /**
   * One string per distinct type and schema, shared by the objects: all objects stay alive
   * until the comparison ends, and each string of their own is one more for the garbage
   * collector to copy.
   */
  const shared = new Map<string, string>();
  const share = (value: string): string => {
    const known = shared.get(value);
    if (known !== undefined) return known;
    shared.set(value, value);
    return value;
  };
  let current: { header: Header; bodyStart: number } | undefined;
  const close = (bodyEnd: number): void => {
    if (!current) return;
    const { name, owner } = current.header;
    const type = share(current.header.type);
    const schema = current.header.schema === null ? null : share(current.header.schema);
    let sql = normalizeObjectText(text, current.bodyStart, Math.max(current.bodyStart, bodyEnd));
    if (GRANT_TYPES.has(type)) sql = maskOwner(sql, owner);
    if (options.ignoreColumnOrder && type === 'TABLE') sql = ignoreColumnOrder(sql);
    objects.push({ key: objectKey(current.header), type, schema, name, sql });
    current = undefined;
  };
  let at = nextDashLine(text, 0);
  let end = text.length;
  while (at >= 0) {
    if (isFooterAt(text, at + 3 /* the line after `--` */)) {
      end = at;
      break;
    }
    const block = headerAt(text, at);
    if (!block) {
      at = nextDashLine(text, at + 2);
      continue;
    }
    // The body ends with the newline before this header's first line.
    close(at - 1);
    current = block;
    at = nextDashLine(text, block.bodyStart);
  }
  close(end === text.length ? end : end - 1);
  return objects;
}

/**
 * One object per key, in dump order (a repeated key where it first came). The texts of
 * entries that share a key are joined in a stable order, so two dumps that list them the
 * other way round read the same.
 */
export function mergeRepeatedKeys(objects: readonly SchemaObject[]): SchemaObject[] {
  const byKey = new Map<string, { first: SchemaObject; texts: string[] }>();
  for (const object of objects) {
    const entry = byKey.get(object.key);
    if (entry) entry.texts.push(object.sql);
    else byKey.set(object.key, { first: object, texts: [object.sql] });
  }
  return [...byKey.values()].map(({ first, texts }) => (texts.length === 1 ? first : { ...first, sql: texts.sort().join('\n\n') }));
}

/** Runs pg_dump (schema only, no owner; no privileges unless asked for) on `url` and returns its output. */
export async function dumpSchemaText(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, url: string, options: Pick<DumpOptions, 'privileges' | 'serverVersion'> = {}): Promise<string> {
  const args = ['--schema-only', '--no-owner', ...(options.privileges ? [] : ['--no-privileges']), '--dbname', url];
  const pgDump = await versionBoundProgram(config, 'pg_dump', options.serverVersion ?? (await serverVersion(url)));
  const result = await runProgram(pgDump, args, { env: config.env });
  if (result.code !== 0) {
    throw new ProgramFailedError(`pg_dump --schema-only failed: ${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`}`, result.stderr.trim());
  }
  return result.stdout;
}

/** The schema of the database at `url`, as keyed objects. */
export async function dumpSchema(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, url: string, options: DumpOptions = {}): Promise<SchemaObject[]> {
  return splitDump(await dumpSchemaText(config, url, options), options);
}

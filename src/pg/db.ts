/**
 * Connections for SQL owned by the tool (bundle, bookkeeping, lock, introspection)
 * through `pg`, the one path of the tool's own queries (SPEC §2). User SQL goes through
 * psql instead (psql.ts).
 */
import type pg from 'pg';
import { parse as parseWithDriver } from 'pg-connection-string';
import { BadInputError, UnreachableError } from '../base/errors.js';
import { libpqParseOptions, redactUrl } from '../base/redact.js';
import { shown } from '../base/text.js';
import { withExtraCa, withNodeNavigator } from '../base/startup-shortcuts.js';

function parse(url: string): ReturnType<typeof parseWithDriver> {
  return parseWithDriver(url, libpqParseOptions(url));
}

/** Validates a connection URL early so a typo gets one clear line, not a driver dump. */
export function parseUrl(url: string): ReturnType<typeof parseWithDriver> {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new BadInputError(`not a PostgreSQL URL (expected postgresql://…): ${shown(redactUrl(url))}`);
  }
  let params: ReturnType<typeof parseWithDriver>;
  try {
    params = parse(url);
    const database = databaseOfUrl(url);
    if (database !== undefined) params = { ...params, database };
  } catch (error) {
    throw new BadInputError(`malformed PostgreSQL URL ${shown(redactUrl(url))}: ${(error as Error).message}`);
  }
  // Checked here, or Node's socket code says it in its words (`Port should be >= 0…`).
  if (params.port && !isPort(String(params.port))) {
    throw new BadInputError(`malformed PostgreSQL URL ${shown(redactUrl(url))}: the port must be a number from 1 to 65535, got '${shown(String(params.port))}'`);
  }
  return params;
}

function isPort(text: string): boolean {
  return /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/**
 * The database of a URL, decoded as libpq decodes it. pg-connection-string uses
 * decodeURI, which keeps `%24`, `%2F`, `%23`… as they are: a database named `my$db`
 * (exported as `my%24db`) would be looked for as "my%24db".
 */
function databaseOfUrl(url: string): string | undefined {
  const raw = /^postgres(?:ql)?:\/\/[^/?#]*\/([^?#]*)/i.exec(url)?.[1];
  return raw ? decodeURIComponent(raw) : undefined;
}

/** True for a URL that points at this machine: a socket path, localhost or 127.0.0.1. */
export function isLocalUrl(url: string): boolean {
  const host = parseUrl(url).host ?? '';
  return host === '' || host.startsWith('/') || host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

/**
 * The rows of `sql` when `condition` (an SQL boolean) holds, else undefined: `sql` may
 * name a table that only the condition says is there (a query naming a missing table
 * fails as a whole).
 */
export async function queryIf<R extends pg.QueryResultRow>(client: pg.ClientBase, condition: string, sql: string): Promise<{ rows: R[] } | undefined> {
  const check = await client.query<{ holds: boolean | null }>(`SELECT (${condition}) AS holds`);
  return check.rows[0]?.holds ? client.query<R>(sql) : undefined;
}

let driver: Promise<typeof pg> | undefined;

/**
 * Loads the pg driver (about 10 ms) on first use; call it early to overlap the load with
 * work that waits on other processes.
 */
export function loadDriver(): Promise<typeof pg> {
  // Loaded on the next turn, so that the caller goes on first (a start to wait for).
  driver ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
    withNodeNavigator(async () => (await import('pg')).default),
  );
  return driver;
}

export async function connect(url: string, options: { database?: string } = {}): Promise<pg.Client> {
  const params = parseUrl(url);
  const [driverModule, ssl] = await Promise.all([loadDriver(), withExtraCa((params as pg.ClientConfig).ssl)]);
  // Spread the parsed URL rather than pass `connectionString`: pg lets the string win
  // over explicit fields, and we sometimes need another database of the same server.
  const client = new driverModule.Client({
    ...(params as pg.ClientConfig),
    port: params.port ? Number(params.port) : undefined,
    ssl,
    ...(options.database ? { database: options.database } : {}),
  });
  // A server-side error (a shutdown while we connect, or later on an idle client) must
  // not crash the process: it also rejects the pending call, which is where it is seen.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new UnreachableError(`cannot connect to ${shown(redactUrl(url))}: ${connectFailure(error as Error)}`);
  }
  return client;
}

/**
 * Why a connection failed, in words: Node says `connect ENOENT /run/pg/.s.PGSQL.5432`
 * where psql says that no server listens there.
 */
function connectFailure(error: Error): string {
  const { code, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = address === undefined ? '' : shown(port === undefined ? address : `${address}:${port}`);
  if (code === 'ENOENT' && where) return `no server socket at ${where} (is the server running?)`;
  if (code === 'ECONNREFUSED' && where) return `connection refused at ${where} (is the server running and accepting connections?)`;
  return error.message;
}

/** Runs `work` with a connected client and always closes it. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>, options: { database?: string } = {}): Promise<T> {
  const client = await connect(url, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

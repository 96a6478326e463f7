/**
 * How a connection target is named in output (SPEC §5, turn 4: every migrate, status,
 * test and diff output names its target), and whether two URLs reach one database.
 * Never a password: only host or socket, port and database name are shown.
 */
import path from 'node:path';
import { parseUrl } from './db.js';

export interface UrlParts {
  host: string;
  port: string;
  database: string;
  user: string;
}

export function urlParts(url: string): UrlParts {
  const parsed = parseUrl(url);
  return { host: parsed.host ?? '', port: String(parsed.port || '5432'), database: parsed.database ?? '', user: parsed.user ?? '' };
}

/**
 * How a target is named in output (SPEC §5, turn 4): `database testdb on socket
 * /p/focus/postgresql/sock (port 5432)`, `database app on db.example.com:5432`; never a
 * password.
 */
export function describeTarget(url: string): string {
  const { host, port, database } = urlParts(url);
  const where = host === '' ? `the default socket (port ${port})` : host.startsWith('/') ? `socket ${host} (port ${port})` : `${host}:${port}`;
  return `database ${database || '(default)'} on ${where}`;
}

/** True when two URLs reach the same database (host or socket, port, database name). */
export function sameDatabase(a: string, b: string): boolean {
  const [x, y] = [urlParts(a), urlParts(b)];
  const host = (parts: UrlParts): string => (parts.host.startsWith('/') ? path.resolve(parts.host) : parts.host);
  return host(x) === host(y) && x.port === y.port && x.database === y.database;
}

/**
 * The line said when two variables name different databases (`database` reads PGURL
 * first, the migrator DB_URL): which one is used and which ignored.
 */
export function conflictNote(used: [string, string], ignored: [string, string]): string | undefined {
  if (sameDatabase(used[1], ignored[1])) return undefined;
  return `${used[0]} and ${ignored[0]} name different databases: using ${used[0]} (${describeTarget(used[1])}), ignoring ${ignored[0]} (${describeTarget(ignored[1])})`;
}


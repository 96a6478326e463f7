/**
 * Fixture projects for the deploy-flow tests (hydrate, patch, deploy, test, check):
 * a copy of a folder under test/fixtures/ in a temp dir the server account can reach,
 * databases of a shared test cluster, and ways to see what a run left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { BIN, ROOT, baseEnv, makeTempDir } from './env.js';
import { clientConfig } from './pg-clients.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

export interface Project {
  dir: string;
  remove(): void;
}

/** Copies test/fixtures/<name> (or any folder) into a fresh temp dir. */
export function copyProject(source: string, prefix = 'db-tool-project-'): Project {
  const dir = makeTempDir(prefix);
  fs.cpSync(path.isAbsolute(source) ? source : path.join(FIXTURES, source), dir, { recursive: true });
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The database named in a URL. */
export function databaseOf(url: string): string {
  const name = parse(url).database;
  if (!name) throw new Error(`no database in ${url}`);
  return name;
}

/** The same cluster URL with another database. */
export function urlFor(clusterUrl: string, database: string): string {
  return clusterUrl.replace(/@\/[^?]*\?/, `@/${encodeURIComponent(database)}?`);
}


/** Runs `work` with a pg client on `url`. */
export async function withDb<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(url));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let databaseCounter = 0;

/**
 * Creates a new database in the cluster of `clusterUrl` (empty, or a copy of the
 * database `template`) and returns its URL.
 */
export async function createDatabase(clusterUrl: string, label: string, template?: string): Promise<string> {
  databaseCounter += 1;
  const name = `${label}_${process.pid}_${databaseCounter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const from = template ? ` TEMPLATE ${template}` : '';
  await withDb(urlFor(clusterUrl, 'postgres'), (client) => client.query(`CREATE DATABASE ${name}${from}`));
  return urlFor(clusterUrl, name);
}

/** One value of a query, or undefined when it returns no row. */
export async function queryValue<T = unknown>(url: string, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return withDb(url, async (client) => {
    const result = await client.query(sql, params);
    const row = result.rows[0] as Record<string, unknown> | undefined;
    return row ? (Object.values(row)[0] as T) : undefined;
  });
}

interface LiveProcess {
  pid: number;
  parent: number;
  commandLine: string;
}

/**
 * The live processes (not zombies) but this one, each read once: command line and parent
 * pid together, so a child that ends during the scan cannot lose its parent.
 */
function liveProcesses(): LiveProcess[] {
  const found: LiveProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') found.push({ pid: Number(entry), parent: Number(parent), commandLine });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Pids of live processes whose command line mentions `fragment` (postgres -D <dir>…). */
export function processesMentioning(fragment: string): number[] {
  return liveProcesses().filter((live) => live.commandLine.includes(fragment)).map((live) => live.pid);
}

/**
 * Postgres servers (postmasters) whose data folder lies below `dir` (or starts with it).
 * A child the server has just forked (a backend for a new connection, an autovacuum
 * worker) shows the server's own command line until it sets its title, so a process
 * whose parent also matches is that server's child, not another server. The parent is
 * read with the command line: read afterwards, a child that had ended meanwhile counted
 * as a second server.
 */
export function serversBelow(dir: string): number[] {
  const matching = liveProcesses().filter((live) => live.commandLine.includes(`-D ${dir}`));
  const pids = new Set(matching.map((live) => live.pid));
  return matching.filter((live) => !pids.has(live.parent)).map((live) => live.pid);
}

/** Entries of `$dir/focus/` (run folders of check/diff); [] when focus/ does not exist. */
export function focusEntries(dir: string): string[] {
  const focus = path.join(dir, 'focus');
  return fs.existsSync(focus) ? fs.readdirSync(focus) : [];
}

/** Starts `database ARGS` without waiting, for signal tests. */
export function spawnDatabase(args: string[], env: Record<string, string | undefined>): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(path.join(BIN, 'database'), args, { env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

/** Polls `probe` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs = 90_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

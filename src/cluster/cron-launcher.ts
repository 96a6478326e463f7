/**
 * pg_cron's launcher (its scheduler) connects to `cron.database_name` — PG_DATABASE in
 * the clusters we make — when the server starts, and stays connected for good.
 * PostgreSQL copies (`CREATE DATABASE … TEMPLATE`) and renames only a database nobody is
 * connected to, so copying or renaming that database — `database test`'s copies, a
 * branch switch — needs the launcher off it for a moment. This module is that moment:
 * `withDatabaseFreeOfCronLauncher`.
 *
 * How: not pg_terminate_backend. pg_cron ends cleanly on SIGTERM (exit 0), and
 * PostgreSQL never restarts a background worker that exited 0: the jobs would stop until
 * the server restarts. A worker that ends with an error (exit 1) is restarted after its
 * `bgw_restart_time` — pg_cron's is 1 s. PostgreSQL gives every background worker with a
 * database connection a SIGFPE handler that raises an ERROR, and pg_cron keeps it: so
 * SIGFPE ends the launcher with exit 1, and about a second later a new one connects, by
 * name, to cron.database_name (after a rename: to the database that has the name now).
 * The signal is sent only while the launcher waits on its latch (wait event `Extension`):
 * not in a transaction, a critical section or a job's start. A job run that was under
 * way is marked failed by the new launcher ("server restarted"), as after a restart.
 *
 * Why it holds: `CREATE DATABASE … TEMPLATE t` takes its lock on t before it counts the
 * sessions in t, and a backend connecting to t waits for that lock; so once the copy has
 * started, the returning launcher waits for it to commit. The copy starts as soon as the
 * old launcher has left, well within the second; if it did not (a loaded machine), it
 * fails with 55006 and is tried again with the launcher restarted again.
 *
 * Only for a server on this machine whose processes we may signal (root, or its own
 * account), and only for a pid that is that server's pg_cron launcher (checked in /proc,
 * not taken on trust from pg_stat_activity: a server in a container has other pids).
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { isProcessAlive } from '../base/pids.js';
import { quoteLiteral } from '../pg/db.js';

/** pg_stat_activity.backend_type of pg_cron's launcher. */
export const CRON_LAUNCHER = 'pg_cron launcher';

/** How long we wait for a busy launcher to go back to waiting (its loop wakes every second). */
const IDLE_WAIT_MS = 2_500;
/** How long the old launcher may take to leave. */
const LEAVE_WAIT_MS = 2_000;
const POLL_MS = 10;
/** Restarts tried before giving up (each leaves the work about a second). */
const ATTEMPTS = 3;

export interface CronLauncherFacts {
  pid: number;
  /** Waiting on its latch, between two rounds. */
  idle: boolean;
}

/** pg_cron's launcher connected to `database`, if any. */
export async function findCronLauncher(client: pg.ClientBase, database: string): Promise<CronLauncherFacts | undefined> {
  const result = await client.query<{ pid: number; idle: boolean }>(
    `SELECT pid, coalesce(wait_event_type = 'Extension', false) AS idle
       FROM pg_stat_activity WHERE backend_type = $1 AND datname = $2 ORDER BY pid LIMIT 1`,
    [CRON_LAUNCHER, database],
  );
  return result.rows[0];
}

/** True when pg_cron's launcher is connected to `database` and no one else is (autovacuum aside: PostgreSQL ends it). */
async function onlyTheLauncherIn(client: pg.ClientBase, database: string): Promise<boolean> {
  const result = await client.query<{ launchers: number; others: number }>(
    `SELECT count(*) FILTER (WHERE backend_type = $1)::int AS launchers,
            count(*) FILTER (WHERE backend_type IS DISTINCT FROM $1 AND backend_type IS DISTINCT FROM 'autovacuum worker')::int AS others
       FROM pg_stat_activity WHERE datname = $2 AND pid <> pg_backend_pid()`,
    [CRON_LAUNCHER, database],
  );
  const row = result.rows[0];
  return row !== undefined && row.launchers > 0 && row.others === 0;
}

export type FreedResult<T> = { freed: true; value: T; restarted: number | undefined } | { freed: false; reason: string };

export interface FreeOptions {
  /** The server's data_directory (superusers read it): identifies the server's processes. */
  dataDirectory: string | undefined;
  /** Replaces process.kill (tests). */
  signal?: (pid: number) => void;
}

/** A database error's SQLSTATE, if it has one. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The parent pid of a process (Linux /proc), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …; comm may hold spaces and parentheses: read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function postmasterOf(dataDirectory: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why we cannot restart the launcher `pid` of the server in `dataDirectory`, or
 * undefined when we can: it must be a child of that server's postmaster on this machine.
 */
export function whyNotRestartable(pid: number, dataDirectory: string | undefined): string | undefined {
  if (!dataDirectory) return 'only a superuser can tell where the server runs';
  const postmaster = postmasterOf(dataDirectory);
  if (postmaster === undefined) return `the server's postmaster.pid is not readable here (${dataDirectory})`;
  if (parentOf(pid) !== postmaster) return `pid ${pid} is not a process of the server on this machine`;
  return undefined;
}

/** Waits until `check` is true or `ms` have passed; says which. */
async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Runs `work` (a `CREATE DATABASE … TEMPLATE database`, an `ALTER DATABASE database
 * RENAME`…) with pg_cron's launcher off `database`: restarted as described above when it
 * is connected, so that it comes back after `work` has taken its lock. `work` must fail
 * without side effects when sessions are in the way (PostgreSQL's 55006), as those
 * statements do: it is then run again. Returns why not when the launcher cannot be moved
 * (a server elsewhere, not ours to signal, always busy); other errors of `work` are thrown.
 */
export async function withDatabaseFreeOfCronLauncher<T>(client: pg.ClientBase, database: string, work: () => Promise<T>, options: FreeOptions): Promise<FreedResult<T>> {
  const signal = options.signal ?? ((pid: number) => process.kill(pid, 'SIGFPE'));
  let restarted: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const launcher = await findCronLauncher(client, database);
    if (launcher) {
      const why = whyNotRestartable(launcher.pid, options.dataDirectory);
      if (why) return { freed: false, reason: `pg_cron's scheduler (pid ${launcher.pid}) cannot be restarted: ${why}` };
      const idle = launcher.idle || (await waitUntil(async () => (await findCronLauncher(client, database))?.idle === true, IDLE_WAIT_MS));
      if (!idle) return { freed: false, reason: `pg_cron's scheduler (pid ${launcher.pid}) stayed busy running jobs` };
      // Said in the server's log too, next to the "floating-point exception" it answers with.
      await client.query(`DO $$ BEGIN RAISE LOG '%', ${quoteLiteral(`db-tool: restarting pg_cron's scheduler (pid ${launcher.pid}) to free database ${database} for a moment`)}; END $$`);
      try {
        signal(launcher.pid);
      } catch (error) {
        return { freed: false, reason: `pg_cron's scheduler (pid ${launcher.pid}) cannot be restarted: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
      }
      restarted = launcher.pid;
      const left = await waitUntil(async () => !isProcessAlive(launcher.pid) || (await findCronLauncher(client, database))?.pid !== launcher.pid, LEAVE_WAIT_MS);
      // A pg_cron that handles SIGFPE itself would stay: say so rather than wait for PostgreSQL's 5 s per try.
      if (!left) return { freed: false, reason: `pg_cron's scheduler (pid ${launcher.pid}) did not restart on SIGFPE` };
    }
    try {
      return { freed: true, value: await work(), restarted };
    } catch (error) {
      // 55006: someone connected before work took its lock; again only if it was the launcher alone.
      if (sqlState(error) !== '55006' || attempt >= ATTEMPTS || !(await onlyTheLauncherIn(client, database))) throw error;
    }
  }
}

/**
 * Opening a test run's copies: clearing what crashed runs left, asking the target who is
 * connected to it, and choosing how its snapshot is made — by TEMPLATE, with pg_cron's
 * scheduler moved aside, or by pg_dump — or saying why it cannot be copied at all.
 */
import type pg from 'pg';
import type { PgPrograms } from '../pg/pg-bin.js';
import { parseUrl, quoteIdent, withClient } from '../pg/db.js';
import { CRON_LAUNCHER } from '../cluster/cron-launcher.js';
import { describeWorkers, isResidentWorker, type ConnectedSession } from './test-snapshot-dump.js';
import { currentDatabase, describeBlockers, surveyTarget, whoConnected, type TargetSurvey } from './target-survey.js';
import { clearDeadTestDatabases, connectAdmin, endAll, makeRamTablespace, type Cleared } from './test-clones.js';
import { TestCopies } from './test-copies.js';

/** How a run's copies were set up; `adminDatabase`: the database admin connections use (`postgres`, else `template1`). */
export type OpenedCopies = ({ kind: 'copies'; copies: TestCopies } | { kind: 'blocked'; reason: string }) & { adminDatabase: string };

export interface OpenCopiesOptions {
  /** The database the copies are made from. */
  url: string;
  /**
   * How many copies the run will make. With more than one, the target is also copied
   * once, and the later copies are made from that snapshot: the target is free again at
   * once (a session that connects to it meanwhile blocks nothing). The first copies do
   * not wait for the snapshot; it is dropped when the last copy is made.
   */
  copies: number;
  /** Admin connections for making and dropping copies at the same time. */
  connections: number;
  ownerPid?: number;
  onCleared?: (cleared: Cleared) => void;
  /** Finds pg_dump and psql for a target that only a dump can copy. */
  config: PgPrograms;
  /** Aborting it ends a pg_dump under way. */
  signal?: AbortSignal;
}

/** Prepares a run's copies, or says why the target cannot be copied. */
export async function openTestCopies(options: OpenCopiesOptions): Promise<OpenedCopies> {
  const ownerPid = options.ownerPid ?? process.pid;
  // One connection more for the snapshot, so the first copies do not queue behind it.
  const count = Math.max(1, options.connections) + (options.copies > 1 ? 1 : 0);
  const admins = await Promise.all(Array.from({ length: count }, () => connectAdmin(options.url)));
  const admin = admins[0] as pg.Client;
  const adminDatabase = admin.database ?? 'postgres';
  let copies: TestCopies | undefined;
  try {
    const target = parseUrl(options.url).database ?? (await currentDatabase(options.url));
    // Clearing what crashed runs left goes on beside the questions, on its own connection.
    const asking = admins[1] ?? admin;
    const clear = () => clearDeadTestDatabases(admin, options.url, { selfPid: ownerPid });
    const ask = () => surveyTarget(asking, target);
    const [cleared, survey] = asking === admin ? [await clear(), await ask()] : await Promise.all([clear(), ask()]);
    options.onCleared?.(cleared);
    if (survey.refusal) {
      await endAll(admins);
      return { kind: 'blocked', reason: survey.refusal, adminDatabase };
    }
    // Client sessions may end, and are the user's to end; background workers never do.
    const workers = survey.sessions.filter(isResidentWorker);
    const clients = survey.sessions.filter((session) => !isResidentWorker(session));
    if (clients.length > 0) {
      await endAll(admins);
      return { kind: 'blocked', reason: describeBlockers(target, clients), adminDatabase };
    }
    const tablespace = await makeRamTablespace(admin, options.url, survey, ownerPid);
    const clause = `${tablespace ? ` TABLESPACE ${quoteIdent(tablespace.name)}` : ''}${survey.version >= 150000 ? ' STRATEGY FILE_COPY' : ''}`;
    copies = new TestCopies(options.url, admins, target, options.copies, clause, survey.settings, ownerPid, tablespace, survey.maxConnections);
    if (workers.length === 0) {
      if (options.copies > 1) copies.takeSnapshot();
      return { kind: 'copies', copies, adminDatabase };
    }
    const blocked = await snapshotBesideWorkers(copies, { target, survey, workers, options });
    return blocked ? { kind: 'blocked', reason: blocked, adminDatabase } : { kind: 'copies', copies, adminDatabase };
  } catch (error) {
    if (copies) await copies.close();
    else await endAll(admins);
    return { kind: 'blocked', reason: await whyCopyRefused(error, options.url), adminDatabase };
  }
}

/**
 * Makes the snapshot of a target that background workers stay connected to: pg_cron's
 * scheduler, the usual worker, steps aside for it; others only a dump gets round.
 * Returns why the target cannot be copied (the copies are closed then), or undefined.
 */
async function snapshotBesideWorkers(
  copies: TestCopies,
  facts: { target: string; survey: TargetSurvey; workers: readonly ConnectedSession[]; options: OpenCopiesOptions },
): Promise<string | undefined> {
  const { target, survey, workers, options } = facts;
  let notMoved: string | undefined;
  if (workers.every((worker) => worker.kind === CRON_LAUNCHER)) {
    const moved = await copies.snapshotFreeOfCronLauncher(survey.dataDirectory);
    if (moved.freed) return undefined;
    notMoved = moved.reason;
  }
  const notDumpable = await whyNotDumpable(options.url, target);
  const failed = notDumpable ?? (await copies.dumpSnapshot(options.config, survey, workers, options.signal, notMoved));
  if (!failed) return undefined;
  await copies.close();
  const why = notDumpable ?? `${target} is in use by ${describeWorkers(workers)}, which never disconnects, and copying it with pg_dump failed: ${failed}`;
  return notMoved ? `${why} (${notMoved})` : why;
}

/** Why PostgreSQL refused a copy, for the errors that say the target cannot be copied; rethrows the others. */
async function whyCopyRefused(error: unknown, url: string): Promise<string> {
  const state = sqlState(error);
  // 55006: a session connected between our look and the copy; 42501: not allowed to copy.
  if (state === '55006') return whoConnected(url, (error as Error).message);
  if (state === '42501') return (error as Error).message;
  throw error;
}

/** A database error's SQLSTATE, if it has one. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Why a target that only pg_dump can copy (workers stay connected) is not copied that
 * way, or undefined: it has the pg_cron extension, which PostgreSQL allows only in
 * `cron.database_name`, so a copy would lack the `cron` schema its tests may use.
 */
async function whyNotDumpable(url: string, target: string): Promise<string | undefined> {
  const hasPgCron = await withClient(url, async (client) =>
    (await client.query<{ found: boolean }>("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') AS found")).rows[0]?.found === true);
  if (!hasPgCron) return undefined;
  return `${target} has the pg_cron extension, which PostgreSQL allows only in cron.database_name (${target}), so no copy of it could have pg_cron, and pg_cron's scheduler stays connected to it`;
}

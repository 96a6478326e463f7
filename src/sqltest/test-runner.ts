/**
 * Running SQL test files (SPEC §5 `test`): each file through psql the way pg_prove runs
 * it, in its own copy of the target, up to `jobs` at once; the output read as TAP.
 *
 * psql runs unaligned, tuples only, without psqlrc, quiet, with ON_ERROR_STOP — so
 * `SELECT 'ok 1 - …'` and `\echo` print bare TAP lines and pgTAP works unchanged. A file
 * fails on an SQL error or a failing TAP stream (see tap.ts). Every file runs, even after
 * one failed. Nothing is printed here: the caller gets events as files start and finish,
 * and the results in the order the files were given.
 *
 * Speed: while a file runs, the next one's copy is made and a psql is already connected
 * to it, waiting for `\i FILE` on stdin (same behaviour as `-f FILE`); so after the first
 * round a lane goes from one file to the next without waiting for a copy or a
 * connection — what makes 16 short files faster than `pg_prove -j 2` (bench/).
 */
import os from 'node:os';
import type { PgPrograms } from '../pg/pg-bin.js';
import { BadInputError, type DbToolError, EnvironmentError } from '../base/errors.js';
import { interruptedBy, throwIfInterrupted, withCleanup } from '../base/interrupt.js';
import { loadDriver } from '../pg/db.js';
import { describePsqlFailure, SqlError } from '../pg/psql.js';
import { startPsql, type StartedPsql } from '../pg/psql-session.js';
import { parseTap, type TapReport } from './tap.js';
import { urlForDatabase, type Cleared } from './test-clones.js';
import { openTestCopies, type OpenedCopies } from './open-test-copies.js';
import type { DumpedSnapshot, TestCopies, TestCopy } from './test-copies.js';
import { startClonesWatchdog } from './clones-watchdog.js';

/** pg_prove's psql settings: output lines are exactly what the tests print. */
export const TAP_PSQL_ARGS = ['--no-align', '--tuples-only', '--pset', 'pager=off', '--pset', 'null='] as const;

/** Most admin connections a run opens to make and drop copies at the same time. */
const MAX_ADMIN_CONNECTIONS = 4;

/** Where the files ran: each in its own copy of the target, or (fallback) all in the target. */
export type Isolation =
  | { kind: 'copies'; jobs: number; ram: boolean; dumped?: DumpedSnapshot | undefined; cronRestarted?: number | undefined }
  | { kind: 'target'; reason: string };

export interface TestFileResult {
  file: string;
  /** psql's stdout: the TAP stream. */
  output: string;
  /** psql's stderr when the file passed (NOTICEs…); the error holds it when it failed. */
  notices: string;
  tap: TapReport;
  /** The SQL error that stopped the file, or why it could not run. */
  error: DbToolError | undefined;
  ok: boolean;
  startedAt: Date;
  durationMs: number;
}

export interface TestTotals {
  files: number;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  todoPassed: number;
  /** Files that failed for another reason than a `not ok` (SQL error, plan mismatch…). */
  brokenFiles: number;
  failedFiles: number;
  ok: boolean;
}

export interface TestRunResult {
  /** In the order the files were given (name order), whatever order they finished in. */
  files: TestFileResult[];
  isolation: Isolation;
  totals: TestTotals;
  durationMs: number;
  ok: boolean;
}

export type TestRunEvent =
  | { type: 'isolation'; isolation: Isolation; files: readonly string[] }
  | { type: 'cleared'; cleared: Cleared }
  | { type: 'start'; file: string }
  | { type: 'finish'; result: TestFileResult };

export interface TestRunOptions {
  url: string;
  files: readonly string[];
  jobs: number;
  /** psql's working directory (`\i` paths). */
  cwd: string;
  onEvent?: (event: TestRunEvent) => void;
}

/** Files run at once: `jobs` (a whole number of at least 1), else the number of CPUs. */
export function testJobs(jobs: number | undefined): number {
  const chosen = jobs ?? os.availableParallelism();
  if (!Number.isInteger(chosen) || chosen < 1) throw new BadInputError(`--jobs must be a whole number of at least 1, not ${jobs}`);
  return chosen;
}

export function totalsOf(files: readonly TestFileResult[]): TestTotals {
  const sum = (pick: (report: TapReport) => number): number => files.reduce((total, file) => total + pick(file.tap), 0);
  return {
    files: files.length,
    passed: sum((r) => r.passed),
    failed: sum((r) => r.failed),
    skipped: sum((r) => r.skipped),
    todo: sum((r) => r.todo),
    todoPassed: sum((r) => r.todoPassed),
    brokenFiles: files.filter((file) => file.error !== undefined || file.tap.problems.length > 0).length,
    failedFiles: files.filter((file) => !file.ok).length,
    ok: files.every((file) => file.ok),
  };
}

/** Where the next file runs: a psql already connected to a fresh copy (or to the target). */
interface Slot {
  copy: TestCopy | undefined;
  psql: StartedPsql;
}

/**
 * Hands out slots, preparing the next ones while files run — the copy made and psql
 * connected to it — so after the first round a file never waits for either. Prepares
 * exactly one slot per file.
 */
class SlotSupply {
  private readonly ready: Promise<Slot>[] = [];
  private made = 0;

  constructor(private readonly prepare: () => Promise<Slot>, private readonly total: number, ahead: number) {
    while (this.ready.length < Math.min(Math.max(1, ahead), total)) this.ready.push(this.prepareOne());
  }

  private prepareOne(): Promise<Slot> {
    this.made += 1;
    const slot = this.prepare();
    slot.catch(() => undefined); // awaited by take(); a slot nobody takes must not crash us
    return slot;
  }

  take(): Promise<Slot> {
    const next = this.ready.shift() ?? this.prepareOne();
    if (this.made < this.total) this.ready.push(this.prepareOne());
    return next;
  }

  /** Lets the psql of slots nobody took (the run was interrupted) exit. */
  async discardRest(): Promise<void> {
    for (const slot of this.ready.splice(0)) {
      await slot.then((ready) => ready.psql.discard()).catch(() => undefined);
    }
  }
}

async function runFile(options: TestRunOptions, file: string, supply: SlotSupply, copies: TestCopies | undefined): Promise<TestFileResult> {
  const startedAt = new Date();
  let slot: Slot;
  try {
    slot = await supply.take();
  } catch (error) {
    const why = new EnvironmentError(`${file}: could not make its copy of the database: ${(error as Error).message}`);
    return { file, output: '', notices: '', tap: parseTap(''), error: why, ok: false, startedAt, durationMs: 0 };
  }
  if (interruptedBy()) {
    await slot.psql.discard();
    throwIfInterrupted();
  }
  const started = performance.now();
  const result = await slot.psql.run(file);
  const durationMs = performance.now() - started;
  // Dropping is not on the way to the next file; close() waits for it.
  if (slot.copy && copies) void copies.drop(slot.copy).catch(() => undefined);
  const tap = parseTap(result.stdout);
  const failed = result.code !== 0;
  const error = failed ? new SqlError(`test ${file}`, describePsqlFailure(result, undefined, { file })) : undefined;
  return { file, output: result.stdout, notices: failed ? '' : result.stderr, tap, error, ok: !error && tap.ok, startedAt, durationMs };
}

/** Runs the files up to `lanes` at once, each lane taking the next file when it is done. */
async function runLanes(options: TestRunOptions, lanes: number, supply: SlotSupply, copies: TestCopies | undefined): Promise<TestFileResult[]> {
  const results: TestFileResult[] = new Array<TestFileResult>(options.files.length);
  const queue = options.files.map((file, index) => ({ file, index }));
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      throwIfInterrupted();
      options.onEvent?.({ type: 'start', file: item.file });
      const result = await runFile(options, item.file, supply, copies);
      results[item.index] = result;
      options.onEvent?.({ type: 'finish', result });
    }
  };
  // Every lane settles before we go on: nothing may start a file after the cleanup.
  const outcomes = await Promise.allSettled(Array.from({ length: lanes }, lane));
  await supply.discardRest();
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}

/**
 * How many slots to prepare ahead: one per lane, unless the connections that takes
 * (a waiting psql per lane on top of the running ones) would crowd a small server.
 */
function slotsAhead(lanes: number, copies: TestCopies | undefined): number {
  if (!copies || !Number.isFinite(copies.maxConnections)) return lanes;
  const spare = Math.floor(copies.maxConnections / 2) - lanes - copies.adminConnections;
  return Math.max(1, Math.min(lanes, spare));
}

/** Opens the run's copies, telling what crashed runs left and was cleared. */
function openCopiesForRun(config: PgPrograms, options: TestRunOptions, lanes: number, signal: AbortSignal): Promise<OpenedCopies> {
  return openTestCopies({
    url: options.url,
    copies: options.files.length,
    connections: Math.min(lanes, MAX_ADMIN_CONNECTIONS),
    config,
    signal,
    onCleared: (cleared) => {
      if (cleared.databases.length + cleared.tablespaces.length + cleared.folders.length > 0) options.onEvent?.({ type: 'cleared', cleared });
    },
  });
}

/** Where the run's files run: in copies (how they were made), or in the target itself and why. */
function isolationOf(opened: OpenedCopies, lanes: number): Isolation {
  return opened.kind === 'copies'
    ? { kind: 'copies', jobs: lanes, ram: opened.copies.ram, dumped: opened.copies.dumped, cronRestarted: opened.copies.cronRestarted }
    : { kind: 'target', reason: opened.reason };
}

export async function runTestFiles(config: PgPrograms, options: TestRunOptions): Promise<TestRunResult> {
  const started = performance.now();
  const lanes = Math.max(1, Math.min(options.jobs, options.files.length));
  let copies: TestCopies | undefined;
  let opening: Promise<unknown> = Promise.resolve();
  // On SIGINT/SIGTERM: end the psql processes (and a pg_dump under way), then drop the copies
  // (with any session left in them); a snapshot half made is dropped by openTestCopies() as it fails.
  const abort = new AbortController();
  // Killed outright (SIGKILL, the OOM killer), we leave copies behind: a watchdog drops
  // them, their RAM tablespace and folder (clones-watchdog.ts).
  const watchdog = startClonesWatchdog(config.env, { url: options.url, ownerPid: process.pid });
  const cleanup = async (): Promise<void> => {
    abort.abort();
    await opening.catch(() => undefined);
    await copies?.close();
  };
  return withCleanup(cleanup, async () => {
    void loadDriver(); // loading pg (about 10 ms) overlaps starting the first psql processes
    const psql = (url: string): StartedPsql => startPsql(config, { url, args: TAP_PSQL_ARGS, cwd: options.cwd, signal: abort.signal });
    // Starting psql costs more than connecting (up to 90 ms on a busy machine): the first
    // round's psql processes start now, on the server's `postgres` database, and move to
    // their copies (\c) when those exist.
    const early = Array.from({ length: lanes }, () => psql(urlForDatabase(options.url, 'postgres')));
    try {
      const open = openCopiesForRun(config, options, lanes, abort.signal);
      opening = open;
      const opened = await open;
      if (opened.kind === 'copies') copies = opened.copies;
      // No `postgres` database: the early psql processes could not connect.
      if (opened.adminDatabase !== 'postgres') await Promise.allSettled(early.splice(0).map((unused) => unused.discard()));
      throwIfInterrupted();
      const isolation = isolationOf(opened, lanes);
      options.onEvent?.({ type: 'isolation', isolation, files: options.files });
      const running = copies;
      const place = async (): Promise<Slot> => {
        const copy = running ? await running.make() : undefined;
        const url = copy?.url ?? options.url;
        const started = early.shift();
        if (started?.switchTo(url)) return { copy, psql: started };
        if (started) void started.discard();
        return { copy, psql: psql(url) };
      };
      const supply = new SlotSupply(place, options.files.length, running ? slotsAhead(lanes, running) : 1);
      const files = await runLanes(options, running ? lanes : 1, supply, running);
      const totals = totalsOf(files);
      return { files, isolation, totals, durationMs: performance.now() - started, ok: totals.ok };
    } finally {
      await Promise.allSettled(early.splice(0).map((unused) => unused.discard()));
    }
  }).finally(() => watchdog.release());
}

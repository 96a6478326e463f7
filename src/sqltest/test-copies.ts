/**
 * The copies of one test run (see test-clones.ts for their names, where they live and
 * why): made on demand from the target or the run's snapshot of it, dropped when done.
 */
import type pg from 'pg';
import type { PgPrograms } from '../pg/pg-bin.js';
import { quoteIdent } from '../pg/db.js';
import { withDatabaseFreeOfCronLauncher, type FreedResult } from '../cluster/cron-launcher.js';
import { createEmptyDatabaseSql, describeWorkers, dumpInto, type ConnectedSession } from './test-snapshot-dump.js';
import type { TargetSurvey } from './target-survey.js';
import { cloneName, connectAdmin, dropRamTablespace, endAll, urlForDatabase } from './test-clones.js';

export interface TestCopy {
  name: string;
  url: string;
}

/** How the snapshot of a target that background workers stay connected to was made (pg_dump), and why. */
export interface DumpedSnapshot {
  /** Who blocks TEMPLATE copies of the target, in words. */
  workers: string;
  durationMs: number;
  /** Why pg_cron's scheduler was not moved off the target instead, when it is one of them. */
  notMoved?: string;
}

/**
 * The copies of one run: made on demand from the target (or the run's snapshot of it),
 * each dropped when its file is done; `close()` drops whatever is left, also when called
 * again or at the same time from a signal handler.
 */
export class TestCopies {
  private counter = 0;
  /** Copies made so far (the snapshot not counted). */
  private made = 0;
  private snapshot: string | undefined;
  private snapshotRetired = false;
  private readonly live = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private closing: Promise<void> = Promise.resolve();
  private closed = false;
  private next = 0;
  private readonly queues = new Map<pg.Client, Promise<unknown>>();

  /** Made by openTestCopies. */
  constructor(
    private readonly url: string,
    private readonly admins: pg.Client[],
    private source: string,
    private readonly expected: number,
    private readonly clause: string,
    private readonly settings: readonly string[],
    private readonly ownerPid: number,
    private tablespaceLeft: { name: string; folder: string } | undefined,
    /** The server's max_connections. */
    readonly maxConnections: number,
  ) {
    this.ram = tablespaceLeft !== undefined;
  }

  /** True when the copies live in a RAM tablespace. */
  readonly ram: boolean;

  /** Set when the snapshot was made with pg_dump (workers stay connected to the target). */
  dumped: DumpedSnapshot | undefined = undefined;

  /** The pid of pg_cron's scheduler restarted to free the target for the snapshot. */
  cronRestarted: number | undefined = undefined;

  /** Connections this run holds for making and dropping copies. */
  get adminConnections(): number {
    return this.admins.length;
  }

  /**
   * Runs `work` on the next admin connection, after what that connection is already
   * doing: a pg client takes one query at a time.
   */
  private onAdmin<T>(work: (client: pg.Client) => Promise<T>, chosen?: pg.Client): Promise<T> {
    const client = chosen ?? (this.admins[this.next % this.admins.length] as pg.Client);
    if (!chosen) this.next += 1;
    const previous = this.queues.get(client) ?? Promise.resolve();
    const done = previous.then(() => work(client));
    this.queues.set(client, done.catch(() => undefined));
    return done;
  }

  private async copy(n: number, chosen?: pg.Client): Promise<string> {
    const name = this.claim(n);
    await this.onAdmin((client) => this.createCopy(client, name), chosen);
    return name;
  }

  /** The name of copy `n`, to be dropped by close() whatever happens. */
  private claim(n: number): string {
    if (this.closed) throw new Error('test copies are closed');
    const name = cloneName(this.ownerPid, n);
    this.live.add(name);
    return name;
  }

  private async createCopy(client: pg.Client, name: string): Promise<void> {
    // The source is read when the copy starts: the snapshot once it exists.
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(this.source)}${this.clause}`);
    for (const statement of this.settings) await client.query(statement.replaceAll('%DB%', quoteIdent(name)));
  }

  /**
   * Makes the snapshot (copy 0) with pg_cron's scheduler moved off the target for the
   * moment of the copy (cluster/cron-launcher.ts), and makes it the source of every
   * copy: the target is copied once, by TEMPLATE, at TEMPLATE's speed. Returns why not
   * when the scheduler could not be moved (nothing was made then).
   */
  async snapshotFreeOfCronLauncher(dataDirectory: string | undefined): Promise<FreedResult<string>> {
    const name = this.claim(0);
    const target = this.source;
    const moved = await this.track(this.onAdmin(
      (client) => withDatabaseFreeOfCronLauncher(client, target, () => this.createCopy(client, name), { dataDirectory }),
      this.admins[0],
    ));
    if (!moved.freed) {
      this.live.delete(name);
      return moved;
    }
    this.snapshot = name;
    this.source = name;
    this.cronRestarted = moved.restarted;
    this.retireSnapshot();
    return { ...moved, value: name };
  }

  /**
   * Makes the snapshot (copy 0) with pg_dump — for a target TEMPLATE cannot copy, as
   * background workers stay connected to it — and makes it the source of every copy.
   * Returns why not, when it could not (the half-made snapshot is dropped).
   */
  async dumpSnapshot(config: PgPrograms, survey: TargetSurvey, workers: readonly ConnectedSession[], signal?: AbortSignal, notMoved?: string): Promise<string | undefined> {
    const started = performance.now();
    const name = cloneName(this.ownerPid, 0);
    this.live.add(name);
    const failed = await this.track(this.onAdmin(async (client) => {
      await client.query(createEmptyDatabaseSql(name, survey.locale, this.clause));
      return dumpInto(config, { from: this.url, into: urlForDatabase(this.url, name), serverVersion: survey.versionText, superuser: survey.superuser, signal });
    }, this.admins[0]));
    if (failed) {
      await this.track(this.dropNamed(name));
      return failed;
    }
    this.snapshot = name;
    this.source = name;
    this.dumped = { workers: describeWorkers(workers), durationMs: performance.now() - started, notMoved };
    this.retireSnapshot();
    return undefined;
  }

  /** Copies the target once (copy 0); later copies come from it. If it fails, they come from the target. */
  takeSnapshot(): void {
    // On the last connection; the first copies go round the others first.
    const client = this.admins[this.admins.length - 1];
    this.next = 0;
    void this.track(this.copy(0, client)).then((name) => {
      this.snapshot = name;
      this.source = name;
      this.retireSnapshot();
    }, () => undefined);
  }

  /** Drops the snapshot once the last copy is made. */
  private retireSnapshot(): void {
    if (!this.snapshot || this.snapshotRetired || this.made < this.expected) return;
    this.snapshotRetired = true;
    void this.track(this.dropNamed(this.snapshot)).catch(() => undefined);
  }

  /** A new copy of the source, for one test file. */
  async make(): Promise<TestCopy> {
    this.counter += 1;
    const name = await this.track(this.copy(this.counter));
    this.made += 1;
    this.retireSnapshot();
    return { name, url: urlForDatabase(this.url, name) };
  }

  /** Drops a copy (sessions still in it are ended). */
  drop(copy: TestCopy): Promise<void> {
    return this.track(this.dropNamed(copy.name));
  }

  private async dropNamed(name: string): Promise<void> {
    await this.onAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    this.live.delete(name);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Drops every copy, the snapshot and the RAM tablespace, and closes the connections. Safe to call more than once. */
  close(): Promise<void> {
    this.closing = this.closing.then(() => this.closeNow());
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    await Promise.allSettled([...this.live].map((name) => this.dropNamed(name)));
    // Whatever is left: the connections did not survive (a signal): one new one does it.
    if (this.live.size > 0 || this.tablespaceLeft) {
      await this.keepOneLiveAdmin();
      for (const name of [...this.live]) await this.dropNamed(name);
      const tablespace = this.tablespaceLeft;
      if (tablespace) await this.onAdmin((client) => dropRamTablespace(client, tablespace));
      this.tablespaceLeft = undefined;
    }
    await endAll(this.admins.splice(0));
  }

  /** Leaves one admin connection that works (a signal may have ended the others): the first, or a new one. */
  private async keepOneLiveAdmin(): Promise<void> {
    const first = this.admins[0];
    const spare = this.admins.splice(1);
    void endAll(spare);
    this.next = 0;
    if (first && (await this.onAdmin((client) => client.query('SELECT 1')).then(() => true, () => false))) return;
    if (first) void endAll([first]);
    this.admins.splice(0, this.admins.length, await connectAdmin(this.url));
  }
}

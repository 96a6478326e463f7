/**
 * Starting and stopping the postmaster of one data folder. We start `postgres`
 * ourselves (not through pg_ctl): it runs in its own session with its output on a log
 * file, and we watch postmaster.pid for "ready", which is both faster and never ties
 * the server to the caller's descriptors.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { interruptedBy } from '../base/interrupt.js';
import type { ClusterLayout } from './cluster-layout.js';
import { InternalError, InterruptedError, ServerStartError } from '../base/errors.js';
import { serverProgram, type PgPrograms } from '../pg/pg-bin.js';
import { isProcessAlive } from '../base/pids.js';
import { spawnDaemon, type OsUser } from '../base/process.js';
import { openBelow, readBelow, readPlainFile } from '../base/safe-files.js';
import { serverPath, type ServerPath } from './server-files.js';

export interface PostmasterPid {
  pid: number;
  status: string | undefined;
  /** The port the server listens on (line 4), which names its socket file. */
  port: number | undefined;
  /** Its first Unix socket folder (line 5). */
  sockDir: string | undefined;
}

/** Parses data/postmaster.pid; undefined when there is none. */
export function readPostmasterPid(dataDir: string): PostmasterPid | undefined {
  // Written by the server account: a link or FIFO put there is read as no pidfile.
  const text = readPlainFile(path.join(dataDir, 'postmaster.pid'));
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return {
    pid,
    status: lines[7]?.trim() || undefined,
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    sockDir: lines[4]?.trim() || undefined,
  };
}

/** True when `pid` is a live (not zombie) process; on Linux also that it is a postgres. */
export function isLiveServer(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true;
  }
}

/** The running server of a data folder, or undefined (no pidfile, or a stale one). */
export function runningServer(dataDir: string): PostmasterPid | undefined {
  const pidfile = readPostmasterPid(dataDir);
  return pidfile && isLiveServer(pidfile.pid) ? pidfile : undefined;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isLiveServer(pid)) return true;
    await sleep(10);
  }
  return !isLiveServer(pid);
}

export interface StopOptions {
  /** How long a fast shutdown may take before we switch to immediate. */
  timeoutMs?: number;
  /**
   * Immediate shutdown first: for data about to be removed, whose shutdown checkpoint
   * would be written for nothing. It frees the shared memory like a fast one.
   */
  immediate?: boolean;
}

/**
 * Fast shutdown (SIGINT), escalating to immediate (SIGQUIT) and finally SIGKILL, so it
 * never hangs. A missing or stale pidfile means "not running".
 */
export async function stopServer(dataDir: string, options: StopOptions = {}): Promise<'stopped' | 'not-running'> {
  const server = runningServer(dataDir);
  if (!server) return 'not-running';
  const fast: Array<[NodeJS.Signals, number]> = options.immediate ? [] : [['SIGINT', options.timeoutMs ?? 10_000]];
  await stopPostmaster(server.pid, [...fast, ['SIGQUIT', 5_000]], dataDir);
  return 'stopped';
}

/**
 * Sends the postmaster each signal in turn until it exits, then SIGKILL. Only the last
 * resort: a postmaster killed outright leaves its dynamic shared memory in /dev/shm
 * (fast and immediate shutdowns both free it).
 */
async function stopPostmaster(pid: number, steps: ReadonlyArray<[NodeJS.Signals, number]>, dataDir: string): Promise<void> {
  for (const [signal, wait] of [...steps, ['SIGKILL', 5_000] as [NodeJS.Signals, number]]) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitForExit(pid, wait)) return;
  }
  throw new InternalError(`server (pid ${pid}) of ${dataDir} does not stop even after SIGKILL`);
}

/** The pid on the first line of a lock file, if any. */
function lockOwner(file: string): number | undefined {
  const pid = Number(readPlainFile(file)?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Removes lock files (postmaster.pid, the socket's .lock) whose server is gone.
 * PostgreSQL refuses to start while the pid in them exists at all — also as a zombie
 * nobody reaps, or as an unrelated process that got the pid after a crash or reboot —
 * so a stale lock would block every start.
 */
export function removeStaleLocks(layout: Pick<ClusterLayout, 'dataDir' | 'sockDir' | 'port'>): void {
  const locks = [path.join(layout.dataDir, 'postmaster.pid'), path.join(layout.sockDir, `.s.PGSQL.${layout.port}.lock`)];
  for (const lock of locks) {
    const pid = lockOwner(lock);
    if (pid !== undefined && !isLiveServer(pid)) fs.rmSync(lock, { force: true });
  }
}

/** True when something accepts connections on this Unix socket. */
export function socketIsLive(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    const done = (live: boolean) => {
      socket.destroy();
      resolve(live);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/** Socket files in `sockDir` that a live process still listens on. */
export async function liveSockets(sockDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = fs.readdirSync(sockDir).filter((name) => /^\.s\.PGSQL\.[0-9]+$/.test(name));
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names) {
    if (await socketIsLive(path.join(sockDir, name))) live.push(path.join(sockDir, name));
  }
  return live;
}

/**
 * The last lines of a log of the server account's; empty when there is none, or when
 * it is not a plain file of that account or ours (its text would be someone else's).
 */
export function tailOfFile(file: ServerPath, owner: number, lines = 20): string {
  try {
    return (readBelow(file.anchor, file.path, { owners: [owner] }) ?? '').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The most helpful log text after a failed start: server.log and the newest collector log. */
function startFailureLog(layout: ClusterLayout, output: ServerPath, owner: number): string {
  const parts = [tailOfFile(output, owner)];
  try {
    const newest = fs.readdirSync(layout.logDir).filter((f) => f.endsWith('.log')).sort().pop();
    const collectorLog = newest && path.join(layout.logDir, newest);
    // A private cluster's server.log lies in its log folder: its lines once, not twice.
    if (collectorLog && path.resolve(collectorLog) !== path.resolve(output.path)) parts.push(tailOfFile(serverPath(layout, collectorLog), owner));
  } catch {
    // no collector logs yet
  }
  return parts.filter(Boolean).join('\n');
}

/**
 * The reason for a failed start, from PostgreSQL's own words in the log: its last fatal
 * line, since server.log keeps what earlier failed starts said.
 */
function startFailureReason(log: string): string {
  const fatal = log.split('\n').reverse().find((line) => /\b(FATAL|PANIC):/.test(line));
  return fatal ? fatal.replace(/^.*?\b(FATAL|PANIC):\s*/, '') : 'see the log below';
}

export interface StartOptions {
  user: OsUser;
  /** Where the server's own stdout/stderr go (appended; never through a planted link). */
  output: ServerPath;
  timeoutMs?: number;
}

/**
 * Starts the postmaster with its output on `options.output`, which we open (as root, in
 * a folder of the server account): never through a link planted there.
 */
function spawnPostmaster(config: PgPrograms, layout: ClusterLayout, args: readonly string[], options: StartOptions): ReturnType<typeof spawnDaemon> {
  const output = openBelow(options.output.anchor, options.output.path, 'append', { owners: [options.user.uid] });
  try {
    return spawnDaemon(serverProgram(config, 'postgres'), args, { env: config.env, user: options.user, output, cwd: layout.dataDir });
  } finally {
    fs.closeSync(output);
  }
}

/**
 * A query whose client is gone is ended within a second (PostgreSQL 14 and later). A
 * killed psql (SIGTERM after its cancel request did not get through, SIGKILL) would
 * otherwise leave its statement running: a pg_sleep, a lock held for a minute.
 */
function orphanedQueryCheck(dataDir: string): string[] {
  return Number(dataVersion(dataDir)) >= 14 ? ['-c', 'client_connection_check_interval=1s'] : [];
}

/** The major version of the data in `dataDir` as its PG_VERSION says ("15", "9.6"), if it says. */
export function dataVersion(dataDir: string): string | undefined {
  const text = readPlainFile(path.join(dataDir, 'PG_VERSION'))?.trim();
  return text !== undefined && /^\d+(?:\.\d+)?$/.test(text) ? text : undefined;
}

/** Starts the postmaster of `layout.dataDir` and waits until it accepts connections. */
export async function startServer(config: PgPrograms, layout: ClusterLayout, options: StartOptions): Promise<number> {
  removeStaleLocks(layout);
  const args = ['-D', layout.dataDir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', ...orphanedQueryCheck(layout.dataDir)];
  const child = spawnPostmaster(config, layout, args, options);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.on('error', () => (exited = -1));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    while (Date.now() < deadline) {
      // Interrupted: the run's cleanup may already have removed the data folder, so the
      // server would never report ready; stop it below instead of waiting for it.
      if (exited !== undefined || interruptedBy()) break;
      const pidfile = readPostmasterPid(layout.dataDir);
      if (child.pid && pidfile?.pid === child.pid && pidfile.status === 'ready') return child.pid;
      await sleep(5);
    }
  } finally {
    child.unref();
  }
  // By its pid: the cleanup may have removed the data folder and its postmaster.pid.
  if (exited === undefined && child.pid) await stopPostmaster(child.pid, [['SIGQUIT', 5_000]], layout.dataDir).catch(() => undefined);
  const signal = interruptedBy();
  if (signal) throw new InterruptedError(signal);
  const log = startFailureLog(layout, options.output, options.user.uid);
  const why = exited === undefined ? 'it did not become ready in time' : startFailureReason(log);
  throw new ServerStartError(`PostgreSQL server failed to start for ${layout.dataDir}: ${why}`, log);
}

/**
 * One run at a time per working dir (SPEC §4): `postgres-init`, `database init`,
 * `deploy`, `cleanup` and `restore` hold `<working dir>/.db-tool.lock` while they work,
 * so two terminals entering the dev shell at once start the cluster one after the
 * other instead of racing on the same files. Both succeed.
 *
 * The lock is a symlink whose target names the holder (pid, start time, command):
 * creating a symlink is atomic and carries its content, so there is no moment when a
 * lock exists without saying whose it is. A lock whose holder died (SIGKILL, a closed
 * terminal) is stale and taken over; the takeover itself is guarded by a second,
 * short-lived folder lock, so two waiters never both take the same stale lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_FILE } from './cluster-layout.js';
import { BadInputError, EnvironmentError } from '../base/errors.js';
import { makeDirs } from '../base/folders.js';
import { removeBelow } from '../base/safe-remove.js';
import { errnoCause } from '../base/fs-faults.js';
import { throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { isIdentityAlive, processIdentity, type ProcessIdentity } from '../base/pids.js';

const TAG = 'db-tool-lock';
/** A takeover folder older than this was left by a holder that died mid-takeover. */
const STALE_TAKEOVER_MS = 5_000;
const POLL_MS = 25;
/** After this long a waiting run says what it waits for. */
export const WAITING_NOTICE_MS = 1_000;

export interface LockHolder {
  identity: ProcessIdentity;
  command: string;
}

export interface HeldLock {
  file: string;
  release(): void;
}

export interface LockOptions {
  /** Who takes the lock, as the "waiting" line of another run names it: `postgres-init`, `database deploy`… */
  command: string;
  log: Pick<Logger, 'info'>;
  /**
   * Make a missing working dir so the lock can live in it (default). With false, a
   * missing working dir means there is nothing to lock: the work runs unlocked.
   */
  create?: boolean;
}

export function lockFile(workingDir: string): string {
  return path.join(workingDir, LOCK_FILE);
}

/** `db-tool-lock:<pid>:<start time>:ns=<pid namespace>:<command>`. */
function lockText(holder: LockHolder): string {
  const { pid, started, namespace } = holder.identity;
  return `${TAG}:${pid}:${started ?? ''}:ns=${namespace ?? ''}:${holder.command}`;
}

/** The holder of a lock; undefined when there is no lock (or it is not one of ours). */
export function readLockHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readlinkSync(file);
  } catch {
    return undefined;
  }
  const match = /^db-tool-lock:([0-9]+):([0-9]*):(?:ns=([0-9]*):)?(.*)$/s.exec(text);
  if (!match?.[1]) return undefined;
  return { identity: { pid: Number(match[1]), started: match[2] || undefined, namespace: match[3] || undefined }, command: match[4] ?? '' };
}

function sameHolder(a: LockHolder | undefined, b: LockHolder | undefined): boolean {
  return a !== undefined && b !== undefined && a.identity.pid === b.identity.pid && a.identity.started === b.identity.started;
}

/** True when the lock's holder is gone (its process no longer runs). */
export function isStale(holder: LockHolder): boolean {
  return !isIdentityAlive(holder.identity);
}

function ageMs(file: string): number {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  return stat ? Date.now() - stat.mtimeMs : 0;
}

/**
 * Removes the lock of `stale` (a dead holder), unless someone took it over already.
 * Only one process at a time gets past the takeover folder.
 */
function removeStaleLock(file: string, stale: LockHolder): void {
  const guard = `${file}.takeover`;
  try {
    fs.mkdirSync(guard);
  } catch {
    if (ageMs(guard) > STALE_TAKEOVER_MS) removeBelow(path.dirname(guard), guard);
    return;
  }
  try {
    if (sameHolder(readLockHolder(file), stale)) fs.rmSync(file, { force: true });
  } finally {
    removeBelow(path.dirname(guard), guard);
  }
}

function held(file: string, me: LockHolder): HeldLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Only our own: cleanup may have removed the folder, and a stale-lock takeover
      // may (wrongly, if we were thought dead) have replaced it.
      if (sameHolder(readLockHolder(file), me)) fs.rmSync(file, { force: true });
    },
  };
}

/** One attempt: the lock, 'busy' (someone holds it), or 'no-dir'. */
function tryLock(file: string, me: LockHolder): HeldLock | 'busy' | 'no-dir' {
  try {
    fs.symlinkSync(lockText(me), file);
    return held(file, me);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'busy';
    if (code === 'ENOENT') return 'no-dir';
    const dir = path.dirname(file);
    if (code === 'ENOTDIR') throw new BadInputError(`working dir is not a folder: ${dir}`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new EnvironmentError(`working dir is not writable: ${dir} (${errnoCause(error)})`);
    throw new EnvironmentError(`cannot lock ${dir}: ${errnoCause(error)}`);
  }
}

/**
 * Takes the lock of `workingDir`, waiting for a live holder (saying so after a second)
 * and taking over a stale one. Undefined only when the folder is missing and `create`
 * is false. Honours SIGINT/SIGTERM while waiting.
 */
export async function acquireWorkingDirLock(workingDir: string, options: LockOptions): Promise<HeldLock | undefined> {
  const file = lockFile(workingDir);
  const me: LockHolder = { identity: processIdentity(), command: options.command };
  const started = Date.now();
  let told = false;
  for (;;) {
    throwIfInterrupted();
    const attempt = tryLock(file, me);
    if (attempt === 'no-dir') {
      if (options.create === false) return undefined;
      makeDirs(workingDir);
      continue;
    }
    if (attempt !== 'busy') return attempt;
    const holder = readLockHolder(file);
    if (holder && isStale(holder)) {
      removeStaleLock(file, holder);
      continue;
    }
    if (!holder && ageMs(file) > STALE_TAKEOVER_MS) {
      // Not a lock of ours (or unreadable): old enough to be debris.
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!told && Date.now() - started >= WAITING_NOTICE_MS) {
      told = true;
      const who = holder ? `${holder.command} (pid ${holder.identity.pid})` : 'another run';
      options.log.info(`waiting for ${who} to finish with ${workingDir}…`);
    }
    await sleep(POLL_MS);
  }
}

/** Runs `work` holding the working dir's lock, and always releases it. */
export async function withWorkingDirLock<T>(workingDir: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const lock = await acquireWorkingDirLock(workingDir, options);
  try {
    return await work();
  } finally {
    lock?.release();
  }
}

/**
 * Takes over the lock of a dead `owner`, and only that: used by a watchdog that acts
 * for its owner after the owner died. Undefined when the lock is free or another run
 * has it by now (the cluster is then that run's business).
 */
export function takeOverLockOf(workingDir: string, owner: ProcessIdentity, command: string): HeldLock | undefined {
  const file = lockFile(workingDir);
  const holder = readLockHolder(file);
  if (!holder || holder.identity.pid !== owner.pid || holder.identity.started !== owner.started || !isStale(holder)) return undefined;
  removeStaleLock(file, holder);
  const attempt = tryLock(file, { identity: processIdentity(), command });
  return typeof attempt === 'string' ? undefined : attempt;
}

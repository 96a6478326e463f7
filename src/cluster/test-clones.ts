/**
 * The databases `database test` clones for its test files, named so that a crash can
 * be cleared: `dbtool_test_<ownerpid>_<n>` — the prefix, the pid of the `database`
 * process that made it, and a counter of that run (e.g. `dbtool_test_4711_3`).
 *
 * - `testCloneName(n)` gives the name for this process;
 * - `guardTestClones(config, url)` starts a watchdog that drops this process's clones
 *   if it dies without dropping them itself (SIGKILL, the OOM killer);
 * - `dropOrphanTestClones(url)` drops the clones whose owner process is gone (the next
 *   run and `database doctor --fix` call it); a clone of a live run is never touched.
 *
 * Owners are only judged on local targets (a socket path or localhost): on a shared
 * remote server, a pid says nothing about a process of another machine.
 */
import type { Config } from '../base/config.js';
import { isLocalUrl, quoteIdent, withClient } from '../pg/db.js';
import { isProcessAlive } from '../base/pids.js';
import { startWatchdog, type Watchdog } from './watchdog.js';

export const TEST_CLONE_PREFIX = 'dbtool_test_';
const CLONE_NAME = /^dbtool_test_([0-9]+)_([0-9]+)$/;

/** `dbtool_test_<ownerPid>_<n>`. */
export function testCloneName(n: number, ownerPid: number = process.pid): string {
  return `${TEST_CLONE_PREFIX}${ownerPid}_${n}`;
}

/** The owner pid and counter of a clone's name; undefined for any other name. */
export function parseTestCloneName(name: string): { ownerPid: number; n: number } | undefined {
  const match = CLONE_NAME.exec(name);
  return match?.[1] && match[2] ? { ownerPid: Number(match[1]), n: Number(match[2]) } : undefined;
}

/** Every test clone in the cluster of `url`. */
export async function listTestClones(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const result = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\\_test\\_%' ORDER BY datname",
    );
    return result.rows.map((row) => row.datname).filter((name) => parseTestCloneName(name) !== undefined);
  }, { database: 'postgres' });
}

/** Drops databases by name (sessions on them are ended first); returns the dropped ones. */
export async function dropTestClones(url: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  return withClient(url, async (client) => {
    const dropped: string[] = [];
    for (const name of names) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      dropped.push(name);
    }
    return dropped;
  }, { database: 'postgres' });
}

/** Clones in the cluster of `url` whose owner process is gone (none on a remote target). */
export async function findOrphanTestClones(url: string): Promise<string[]> {
  if (!isLocalUrl(url)) return [];
  const clones = await listTestClones(url);
  return clones.filter((name) => {
    const parsed = parseTestCloneName(name);
    return parsed !== undefined && parsed.ownerPid !== process.pid && !isProcessAlive(parsed.ownerPid);
  });
}

/** Drops the clones left by runs that died; returns their names. */
export async function dropOrphanTestClones(url: string): Promise<string[]> {
  return dropTestClones(url, await findOrphanTestClones(url));
}

/** Drops the clones of one owner (the watchdog, after its owner died). */
export async function dropClonesOf(url: string, ownerPid: number): Promise<string[]> {
  const clones = await listTestClones(url);
  return dropTestClones(url, clones.filter((name) => parseTestCloneName(name)?.ownerPid === ownerPid));
}

/**
 * Starts a watchdog that drops this process's clones (`dbtool_test_<pid>_*`) in the
 * cluster of `url` if this process dies first; call `release()` once the run has
 * dropped them itself. The URL reaches the watchdog on a pipe, never on a command line.
 */
export function guardTestClones(config: Config, url: string): Watchdog {
  return startWatchdog(config, { kind: 'clones', url, ownerPid: process.pid });
}

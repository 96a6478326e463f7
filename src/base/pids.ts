/**
 * Who owns something, and whether that owner still lives. A pid alone is not enough:
 * a process killed with SIGKILL may linger as a zombie its parent has not reaped, and
 * after a crash or reboot its pid may belong to an unrelated process. So an owner is
 * recorded as its pid plus its start time (Linux: /proc/<pid>/stat field 22), and it
 * counts as alive only while a non-zombie process with that pid and start time exists.
 * A pid is only meaningful in its own pid namespace: an owner recorded in another one (a
 * container sharing the project folder or /dev/shm with the host) cannot be judged from
 * here, and is taken to be alive, so nothing of it is ever touched.
 */
import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot; undefined where /proc is not available. */
  started: string | undefined;
  /** The pid namespace (`pid:[4026531836]` → `4026531836`); undefined where unknown. */
  namespace?: string | undefined;
}

function pidNamespace(): string | undefined {
  try {
    return /\[([0-9]+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
  } catch {
    return undefined;
  }
}

const OWN_NAMESPACE = pidNamespace();

/** State letter and start time of a process from /proc, undefined when there is none. */
function procStat(pid: number): { state: string; started: string } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', started: fields[19] ?? '' };
}

function hasProcfs(): boolean {
  return fs.existsSync('/proc/self/stat');
}

/** True when a live (not zombie) process has this pid. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProcfs()) return true;
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** The identity of a running process (default: this one). */
export function processIdentity(pid: number = process.pid): ProcessIdentity {
  return { pid, started: procStat(pid)?.started, namespace: OWN_NAMESPACE };
}

/**
 * True while the very process of `identity` runs (same pid and start time, not a
 * zombie) — or when it lives in another pid namespace, where we cannot tell.
 */
export function isIdentityAlive(identity: ProcessIdentity): boolean {
  if (identity.namespace !== undefined && OWN_NAMESPACE !== undefined && identity.namespace !== OWN_NAMESPACE) return true;
  if (!isProcessAlive(identity.pid)) return false;
  if (identity.started === undefined || !hasProcfs()) return true;
  return procStat(identity.pid)?.started === identity.started;
}

/** `pid started ns` on one line, as owner files hold it (`-` for what is unknown). */
export function formatIdentity(identity: ProcessIdentity): string {
  return `${identity.pid} ${identity.started ?? '-'} ${identity.namespace ?? '-'}`;
}

/** Parses `formatIdentity`'s line; undefined when it is not one. */
export function parseIdentity(line: string | undefined): ProcessIdentity | undefined {
  const match = /^\s*([0-9]+)(?:\s+([0-9]+|-))?(?:\s+([0-9]+|-))?\s*$/.exec(line ?? '');
  if (!match?.[1]) return undefined;
  const known = (value: string | undefined) => (value === undefined || value === '-' ? undefined : value);
  return { pid: Number(match[1]), started: known(match[2]), namespace: known(match[3]) };
}

/** Each process of this machine with its command line split into arguments (Linux /proc). */
export function processCommandLines(): Array<{ pid: number; args: string[] }> {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^[0-9]+$/.test(entry));
  } catch {
    return [];
  }
  const processes: Array<{ pid: number; args: string[] }> = [];
  for (const entry of entries) {
    try {
      processes.push({ pid: Number(entry), args: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // ended while we looked
    }
  }
  return processes;
}

/**
 * Pids of live processes (not this one) whose command line contains one of `fragments`:
 * the programs a killed owner left running on its folders (a tar, a cp, a psql).
 */
export function processesMentioning(fragments: readonly string[]): number[] {
  return processCommandLines()
    .filter(({ pid, args }) => {
      if (pid === process.pid) return false;
      const cmdline = args.join(' ');
      return fragments.some((fragment) => cmdline.includes(fragment)) && isProcessAlive(pid);
    })
    .map(({ pid }) => pid);
}

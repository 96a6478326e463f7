/**
 * A program we run together with whatever it starts, ended as a whole (see ChildGroup),
 * and the reaper that ends such groups when we die.
 */
import { onInterrupt } from './interrupt.js';
import type { WatchdogProcess } from './process.js';

/** What a group needs of its leader, a started child (only process.ts starts them). */
interface GroupLeader {
  readonly pid?: number | undefined;
  kill(signal: NodeJS.Signals): boolean;
  on(event: 'exit', listener: () => void): unknown;
}

/**
 * The variable that marks every program we run (and what it starts): `NAME=<our pid>-<random>`,
 * the reaper's `$1`.
 */
export const REAPED_BY = 'DB_TOOL_REAPED_BY';

/**
 * Ends the process groups of the programs we run when we die, however we die (SIGKILL,
 * the OOM killer), through the end of its stdin (see spawnWatchdog): `+PGID:SIG` adds a
 * group, `-PGID` drops it (its leader exited), `release` says we ended as planned. At
 * end-of-file it sends each group left its stop signal, then SIGTERM, then SIGKILL: a
 * pg_basebackup and its WAL streamer, a tar still unpacking, a psql still running a
 * script end with us.
 *
 * A program started in the instant before we died may not be in the list yet (we tell
 * the reaper right after the spawn, and may be descheduled in between): without
 * `release`, every process whose environment carries our mark (`$1`) ends too, its
 * group found through /proc. Never group 0 or 1.
 */
export const REAPER_SCRIPT = [
  'mark=$1; groups=; released=',
  'while IFS= read -r line; do',
  '  case $line in',
  '    +*) groups="$groups ${line#+}" ;;',
  '    -*) kept=; for g in $groups; do [ "${g%:*}" = "${line#-}" ] || kept="$kept $g"; done; groups=$kept ;;',
  '    release) released=1 ;;',
  '  esac',
  'done',
  'if [ -z "$released" ] && [ -n "$mark" ] && [ -d /proc/self ]; then',
  '  for d in /proc/[0-9]*; do',
  "    tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -qxF \"$mark\" || continue",
  '    stat=$(cat "$d/stat" 2>/dev/null) || continue',
  '    set -- ${stat##*) }',
  '    [ "${3:-0}" -gt 1 ] 2>/dev/null && groups="$groups $3:TERM"',
  '  done',
  'fi',
  '[ -n "$groups" ] || exit 0',
  'for g in $groups; do kill -s "${g#*:}" -- "-${g%:*}" 2>/dev/null; done',
  'sleep 5',
  'for g in $groups; do kill -s TERM -- "-${g%:*}" 2>/dev/null; done',
  'sleep 2',
  'for g in $groups; do kill -s KILL -- "-${g%:*}" 2>/dev/null; done',
].join('\n');

/** After a stop signal: SIGTERM, then SIGKILL, for what does not end (ms after the first). */
const ESCALATION: ReadonlyArray<[NodeJS.Signals, number]> = [['SIGTERM', 1_000], ['SIGKILL', 3_000]];

/**
 * A program we run together with whatever it starts. It runs in a process group of its
 * own (`detached`: its own session, so a terminal's Ctrl-C reaches us, not it) and is
 * ended as a whole with `kill(-pgid)`: pg_basebackup's WAL-streaming child would
 * otherwise outlive it, holding a walsender on the server. The group ends on our
 * SIGINT/SIGTERM (its stop signal, then SIGTERM, then SIGKILL), when `signal` aborts or
 * a timeout passes, when its leader exits (what the leader left goes with it), and when
 * we die (the reaper).
 */
export class ChildGroup {
  private over = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly forget: () => void;

  constructor(
    private readonly child: GroupLeader,
    /** The reaper (process.ts starts it before the first child): it ends the group if we die. */
    private readonly reaper: WatchdogProcess,
    private readonly stopSignal: NodeJS.Signals,
    signal?: AbortSignal,
  ) {
    if (child.pid !== undefined) reaper.send(`+${child.pid}:${stopSignal.replace(/^SIG/, '')}`);
    // On SIGINT/SIGTERM our children stop with us: a psql, tar or ssh left running would
    // hold the run up (or outlive it) when the signal was sent to us alone.
    const forgetInterrupt = onInterrupt(async () => this.stop(this.stopSignal));
    // One signal may serve a whole run (the test runner's psqls): its listener goes with
    // the group, or they pile up with every program the run starts.
    const onAbort = (): void => this.stop(this.stopSignal);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.forget = () => {
      forgetInterrupt();
      signal?.removeEventListener('abort', onAbort);
    };
    child.on('exit', () => this.ended());
  }

  /** Sends `first` to the whole group, then SIGTERM and SIGKILL while it lasts. */
  stop(first: NodeJS.Signals): void {
    if (this.over) return;
    this.send(first);
    for (const [next, afterMs] of ESCALATION) {
      if (next !== first) this.timers.push(setTimeout(() => this.send(next), afterMs).unref());
    }
  }

  /** The leader is gone (or never started): what it left in its group is ended now. */
  ended(): void {
    if (this.over) return;
    this.send('SIGTERM');
    this.over = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.forget();
    if (this.child.pid !== undefined) this.reaper.send(`-${this.child.pid}`);
  }

  private send(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.over) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone, or was never made: the leader alone, if it is still there.
      this.child.kill(signal);
    }
  }
}

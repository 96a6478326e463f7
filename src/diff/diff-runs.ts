/**
 * The run folders `$LOCAL_DIR/focus/database-diff-<stamp>-<pid>-<random>/` that diff
 * runs leave behind: their `logs/` (for `database diff log`) and, when the run came to
 * an end (identical, different or failed — not interrupted), a `finished` marker.
 *
 * Retention counts finished runs only: the newest KEPT_DIFF_RUNS are kept, so a series
 * of interrupted runs never pushes out the logs of the last real answer. An interrupted
 * run's logs stay until a later run finishes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../base/pids.js';

export const DIFF_RUN_PREFIX = 'database-diff';
/** The entry of a run folder that outlives the run. */
export const DIFF_LOGS = 'logs';
/** Written into a run folder when the run came to an end; holds its outcome. */
export const DIFF_FINISHED = 'finished';
/** Finished runs whose logs are kept (the newest ones). */
export const KEPT_DIFF_RUNS = 5;

export interface DiffRunFolder {
  dir: string;
  /** The logs folder, when there is one. */
  logs: string | undefined;
  /** True when the run came to an end (the marker is there). */
  finished: boolean;
  /** True when the folder holds nothing but logs and the marker (no cluster left). */
  settled: boolean;
  /** The pid in the folder name (the process that made it). */
  pid: number | undefined;
  /** When the run finished (the marker), else when the folder last changed. */
  time: number;
}

const RUN_NAME = new RegExp(`^${DIFF_RUN_PREFIX}-.*-([0-9]+)-[0-9a-f]+$`);

/** How a run ended: nothing left to do (identical, or a proved migration written), differences, or an error. */
export type DiffRunOutcome = 'settled' | 'different' | 'failed';

/** Records that the run of `runDir` came to an end, and how. */
export function markRunFinished(runDir: string, outcome: DiffRunOutcome): void {
  try {
    fs.writeFileSync(path.join(runDir, DIFF_FINISHED), `${JSON.stringify({ outcome, finishedAt: new Date().toISOString() })}\n`);
  } catch {
    // The folder is gone (removed under us): nothing to mark.
  }
}

function describeRun(dir: string): DiffRunFolder | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const marker = fs.statSync(path.join(dir, DIFF_FINISHED), { throwIfNoEntry: false });
  const logs = entries.includes(DIFF_LOGS) && fs.statSync(path.join(dir, DIFF_LOGS), { throwIfNoEntry: false })?.isDirectory() ? path.join(dir, DIFF_LOGS) : undefined;
  const pid = RUN_NAME.exec(path.basename(dir))?.[1];
  return {
    dir,
    logs,
    finished: marker !== undefined,
    settled: entries.every((entry) => entry === DIFF_LOGS || entry === DIFF_FINISHED),
    pid: pid === undefined ? undefined : Number(pid),
    time: marker?.mtimeMs ?? fs.statSync(dir).mtimeMs,
  };
}

/** Every diff run folder below `focusDir`, newest first. */
export function listDiffRuns(focusDir: string): DiffRunFolder[] {
  let names: string[];
  try {
    names = fs.readdirSync(focusDir).filter((name) => name.startsWith(`${DIFF_RUN_PREFIX}-`));
  } catch {
    return [];
  }
  return names
    .map((name) => describeRun(path.join(focusDir, name)))
    .filter((run): run is DiffRunFolder => run !== undefined)
    .sort((a, b) => b.time - a.time || (a.dir < b.dir ? 1 : -1));
}

function isAlive(pid: number | undefined): boolean {
  return pid !== undefined && isProcessAlive(pid);
}

/**
 * Run folders to remove: finished runs beyond the newest `keep`, and interrupted runs
 * (no marker, their process gone) older than the newest finished run. Folders still
 * holding a cluster, and runs whose process lives, are never touched.
 */
export function staleDiffRuns(focusDir: string, keep: number): string[] {
  const runs = listDiffRuns(focusDir).filter((run) => run.settled);
  const finished = runs.filter((run) => run.finished);
  const newestFinished = finished[0]?.time ?? Number.POSITIVE_INFINITY;
  const interrupted = runs.filter((run) => !run.finished && !isAlive(run.pid) && run.time < newestFinished);
  return [...finished.slice(keep), ...interrupted].map((run) => run.dir);
}

export function pruneDiffRuns(focusDir: string, keep: number): void {
  for (const dir of staleDiffRuns(focusDir, keep)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The logs folder of the most recent run (finished or not), or undefined when there was none. */
export function latestDiffLogs(focusDir: string): string | undefined {
  return listDiffRuns(focusDir).find((run) => run.logs !== undefined)?.logs;
}

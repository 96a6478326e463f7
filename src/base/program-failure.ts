/**
 * A failed external program said in one short line (SPEC §12), its full output kept in a
 * fault log whose path the line names.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ProgramFailedError } from './errors.js';
import { makeDirs } from './folders.js';
import { faultInText } from './fs-faults.js';
import { redact } from './log.js';
import { RunResult } from './process.js';

/** The settings that say where fault logs go (a narrow part of `Config`). */
export interface FaultLogSettings {
  readonly cacheDir: string;
  readonly tmpDir: string;
}

/** Where full outputs of failed programs go: the cache's logs/, else the temp folder. */
export function faultLogDirs(config: FaultLogSettings): string[] {
  return [path.join(config.cacheDir, 'logs'), config.tmpDir];
}

/** Full outputs kept in a log folder; older ones are pruned. */
const KEPT_FAULT_LOGS = 20;

function pruneFaultLogs(dir: string): void {
  try {
    const logs = fs.readdirSync(dir).filter((name) => name.startsWith('db-tool-') && name.endsWith('.log')).sort();
    for (const old of logs.slice(0, Math.max(0, logs.length - KEPT_FAULT_LOGS))) fs.rmSync(path.join(dir, old), { force: true });
  } catch {
    // pruning is a courtesy
  }
}

/** Writes `text` into the first folder of `dirs` that takes it; undefined when none does (a full disk). */
export function writeFaultLog(dirs: readonly string[], what: string, text: string): string | undefined {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const name = `db-tool-${stamp}-${what.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40)}-${process.pid}.log`;
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      makeDirs(dir, { mode: 0o700 });
      fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
      pruneFaultLogs(dir);
      return file;
    } catch {
      fs.rmSync(file, { force: true });
    }
  }
  return undefined;
}

export interface ProgramFailure {
  /** What failed, as the user knows it: `cp`, `tar`, `pg_basebackup`… */
  what: string;
  /** The folder the program wrote to, named in the message. */
  folder: string;
  /** Folders for the full output, tried in order (see faultLogDirs). */
  logDirs: readonly string[];
  /** Said after the cause, e.g. "; the previous backup is kept". */
  suffix?: string;
}

/** The line of a program's output that says most: the first naming an error, else the first. */
function tellingLine(output: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const line = lines.find((l) => /\b(error|fatal|panic|cannot|failed)\b/i.test(l)) ?? lines[0];
  return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * A failed external program as one short line (SPEC §12): the machine fault it hit
 * (e.g. "no space left on device in …") or its most telling line, and where its full
 * output is. A page of `cp: cannot create regular file` lines never reaches the user.
 */
export function programFailure(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, failure: ProgramFailure): ProgramFailedError {
  const output = redact([result.stderr, result.stdout].map((text) => text.trim()).filter(Boolean).join('\n'));
  const fault = faultInText(output);
  const cause = fault ? `${fault} in ${failure.folder}` : `${tellingLine(output) ?? `exit ${result.code}`} (in ${failure.folder})`;
  const suffix = failure.suffix ?? '';
  if (output.split('\n').length <= 1 && !fault) return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix}`);
  const log = writeFaultLog(failure.logDirs, failure.what, output);
  if (log) return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix} (full output in ${log})`);
  return new ProgramFailedError(`${failure.what} failed: ${cause}${suffix}`, output.split('\n').slice(-5).join('\n'));
}

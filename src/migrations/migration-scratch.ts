/**
 * A run's scratch folder, for the step file psql writes as each migration begins (see
 * migration-runner.ts). In RAM (/dev/shm) when there is one: psql rewrites the file per
 * migration, and on a disk each rewrite of a truncated file is flushed (ext4), which cost
 * more than the migrations themselves on a busy machine. Named after our pid, so a run
 * killed with SIGKILL leaves a folder the next run clears.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RAM = '/dev/shm';
const PREFIX = 'db-tool-migrate-';

function parentFolder(): string {
  return fs.statSync(RAM, { throwIfNoEntry: false })?.isDirectory() ? RAM : os.tmpdir();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the scratch folders of runs that were killed (their pid is gone). */
function clearKilledRuns(parent: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parent).filter((entry) => entry.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/^db-tool-migrate-(\d+)-/.exec(entry)?.[1]);
    if (pid > 0 && pid !== process.pid && !isAlive(pid)) fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

/** Runs `use` with a private scratch folder, removed afterwards. */
export async function withScratchFolder<T>(use: (folder: string) => Promise<T>): Promise<T> {
  const parent = parentFolder();
  clearKilledRuns(parent);
  const folder = fs.mkdtempSync(path.join(parent, `${PREFIX}${process.pid}-`));
  try {
    return await use(folder);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

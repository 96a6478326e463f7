/**
 * Fault injection for the fault tests (test/faults-*.test.ts), always against the real
 * programs: small tmpfs mounts (root only), wrappers on PATH that hold a real program
 * at a gate until the test lets it go (or forever), and ways to see what a run left.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { allRamDirs } from '../../src/cluster/ram-storage.js';
import { IS_ROOT, makeTempDir } from './env.js';
import { processesMentioning, serversBelow } from './project.js';

/** Why the tmpfs tests skip as an ordinary user (said in their names). */
export const NEEDS_ROOT = 'needs root to mount a small tmpfs; skipped as an ordinary user';

/** Mounts a tmpfs of `sizeMb` MB on `dir` (made if missing); root only. */
export function mountTmpfs(dir: string, sizeMb: number): void {
  if (!IS_ROOT) throw new Error(NEEDS_ROOT);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
}

/** Unmounts `dir`, lazily if something still holds it; never throws. */
export function unmount(dir: string): void {
  for (const args of [[dir], ['-l', dir]]) {
    try {
      execFileSync('umount', args, { stdio: 'ignore' });
      return;
    } catch {
      // busy or not mounted: try the lazy way, then give up
    }
  }
}

/** Fills the file system of `dir` until writes fail, leaving `leaveBytes` (rounded to blocks) free. */
export function fillDisk(dir: string, leaveBytes = 0): string {
  const file = path.join(dir, '.filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) {
      const free = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
      if (free <= leaveBytes) break;
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(4096, free - leaveBytes)));
    }
  } catch {
    // ENOSPC: full
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

export interface Gate {
  /** Folder to put first on PATH: holds the wrapper. */
  binDir: string;
  /** True once the wrapped program was called (it then waits at the gate). */
  reached(): boolean;
  /** Lets the waiting call(s) through. */
  open(): void;
  remove(): void;
}

/**
 * A wrapper named `program` that, when called, records the call and waits until the
 * gate opens (a file appears), then runs the real program. While it waits the run is
 * "in" that step, for as long as the test likes.
 */
export function gateProgram(program: string, real: string): Gate {
  const dir = makeTempDir('db-tool-gate-');
  // The wrapped program may run as the server account (tar as PG_OS_USER): it must mark.
  fs.chmodSync(dir, 0o777);
  const binDir = path.join(dir, 'bin');
  fs.mkdirSync(binDir, { mode: 0o755 });
  const reachedFile = path.join(dir, 'reached');
  const openFile = path.join(dir, 'open');
  fs.writeFileSync(
    path.join(binDir, program),
    // `--version` (a version check before the real call) goes straight through.
    `#!/bin/sh\ncase "$1" in --version|-V) exec '${real}' "$@" ;; esac\n: > '${reachedFile}'\nwhile [ ! -e '${openFile}' ]; do sleep 0.05; done\nexec '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    binDir,
    reached: () => fs.existsSync(reachedFile),
    open: () => fs.writeFileSync(openFile, ''),
    remove: () => {
      fs.writeFileSync(openFile, '');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of watchdogs (and their reapers) started with `marker` in their environment. */
export function watchdogsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes('db-tool-watchdog') && environ.split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** RAM data folders of clusters below `dir`. */
export function ramDirsBelow(dir: string): string[] {
  return allRamDirs().filter((ram) => ram.link?.startsWith(`${dir}/`)).map((ram) => ram.dir);
}

/** Everything a run below `dir` may leave: servers, other processes, RAM data. */
export function leftoversBelow(dir: string): { servers: number[]; processes: number[]; ram: string[] } {
  return { servers: serversBelow(dir), processes: processesMentioning(dir), ram: ramDirsBelow(dir) };
}

export const NOTHING_LEFT = { servers: [], processes: [], ram: [] };

/** Kills whatever still runs below `dir` and removes RAM data linked from it (test cleanup). */
export function killEverythingBelow(dir: string): void {
  for (const pid of [...serversBelow(dir), ...processesMentioning(dir)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const ram of ramDirsBelow(dir)) fs.rmSync(ram, { recursive: true, force: true });
}

/** The folder of the real PostgreSQL programs the tests run (PG_BIN_DIR, else Debian's newest). */
export function realPgBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const newest = fs.readdirSync(root).filter((name) => /^[0-9]+$/.test(name)).sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return path.join(root, newest, 'bin');
}

/**
 * A gate for a PostgreSQL program, used through PG_BIN_DIR (which wins over PATH): a
 * folder with the gated program and a plain exec wrapper for each other one, so that
 * the server programs are still found beside `postgres` (where initdb is looked up).
 */
export function gatePgProgram(program: string): Gate & { pgBinDir: string } {
  const real = realPgBinDir();
  const made = gateProgram(program, fs.realpathSync(path.join(real, program)));
  for (const entry of fs.readdirSync(real)) {
    const wrapper = path.join(made.binDir, entry);
    if (entry === program || fs.existsSync(wrapper)) continue;
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${fs.realpathSync(path.join(real, entry))}' "$@"\n`, { mode: 0o755 });
  }
  return { ...made, pgBinDir: made.binDir };
}

/**
 * A PG_BIN_DIR whose `program` runs the real one with `extraArgs` added (e.g.
 * pg_basebackup `--max-rate=32k`, which keeps it streaming for as long as a test likes).
 */
export function slowPgProgram(program: string, extraArgs: readonly string[]): { pgBinDir: string; remove(): void } {
  const real = realPgBinDir();
  const dir = makeTempDir('db-tool-slow-');
  for (const entry of fs.readdirSync(real)) {
    const extra = entry === program ? ` ${extraArgs.map((arg) => `'${arg}'`).join(' ')}` : '';
    fs.writeFileSync(path.join(dir, entry), `#!/bin/sh\nexec '${fs.realpathSync(path.join(real, entry))}' "$@"${extra}\n`, { mode: 0o755 });
  }
  return { pgBinDir: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Helpers shared by benchmark cases: run our executables and shell commands with a
 * clean environment, and make temp folders the server account can traverse.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_CACHE = path.join(os.tmpdir(), `db-tool-bench-cache-${process.getuid?.() ?? 0}`);

export function env(extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? os.homedir(),
    XDG_CACHE_HOME: BENCH_CACHE,
    NO_COLOR: '1',
    ...(process.env.PG_BIN_DIR ? { PG_BIN_DIR: process.env.PG_BIN_DIR } : {}),
    ...extra,
  };
}

/** Runs a program; rejects when it exits non-zero (a benchmark of a failure is worthless). */
export function run(program, args, extraEnv = {}, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: env(extraEnv), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || options.allowFailure) resolve({ code, stdout, stderr });
      else reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

export function bin(name) {
  return path.join(ROOT, 'bin', name);
}

export function tempDir(prefix = 'db-tool-bench-', parent = os.tmpdir()) {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export const isRoot = process.getuid?.() === 0;

/**
 * Runs `cleanup` on Ctrl-C or SIGTERM, then exits 130/143: a case that changes the
 * machine (a mounted disk, a throttle) must undo it also when interrupted. Returns the
 * function that stops listening.
 */
export function onInterrupt(cleanup) {
  const handlers = Object.fromEntries(['SIGINT', 'SIGTERM'].map((signal) => [signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up …\n`);
    Promise.resolve()
      .then(cleanup)
      .catch((error) => process.stderr.write(`bench: cleanup failed: ${error.message}\n`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  }]));
  for (const [signal, handler] of Object.entries(handlers)) process.once(signal, handler);
  return () => {
    for (const [signal, handler] of Object.entries(handlers)) process.removeListener(signal, handler);
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The seconds `work` took (a peer's run, timed in a case's beforeEach). */
export async function secondsOf(work) {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** `ratio` × the median of the peer's times so far, in seconds; undefined before the peer ran. */
export function peerTarget(peerTimes, ratio) {
  return peerTimes.length > 0 ? Number((ratio * median(peerTimes)).toFixed(3)) : undefined;
}

/**
 * A cluster of its own for a case, started by postgres-init in `dir`: its environment
 * and the variables postgres-init exports (PGURL, POSTGRESQL_HOST…).
 */
export async function startCluster(dir) {
  const clusterEnv = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
  const init = await run(bin('postgres-init'), ['--env'], clusterEnv);
  const exported = Object.fromEntries([...init.stdout.matchAll(/^export (\w+)='?([^'\n]*)'?$/gm)].map((m) => [m[1], m[2]]));
  if (!exported.PGURL) throw new Error(`postgres-init printed no PGURL: ${init.stdout}`);
  return { env: clusterEnv, exported };
}

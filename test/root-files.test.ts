/**
 * SPEC §17 "Security", issue 19 §1: run as root, the tool never opens, creates, chowns
 * or removes anything through a link (or another planted entry) in the folders the
 * server account can write; it refuses with one line (exit 2) and leaves the target as
 * it was. As root the entries are planted by the server account itself (runuser), as in
 * the attack; as an ordinary user the same account plants them (there is nobody else to
 * defend against, and the refusal is the same).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';
import { copyProject } from './helpers/project.js';

const SERVER_ACCOUNT = 'postgres';
const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  work: string;
  env: Record<string, string>;
  /** A file of ours (root's, when root) outside the cluster, 0600, that nothing may touch. */
  victim: string;
  /** A folder of ours outside the cluster, holding one file. */
  victimDir: string;
}

function setup(): Setup {
  const dir = makeTempDir('db-tool-rootfiles-');
  dirs.push(dir);
  const work = path.join(dir, 'pg');
  const env = { PG_WORKING_DIR: work, PG_SHARED_PRELOAD_LIBRARIES: '', PG_OS_USER: SERVER_ACCOUNT };
  envs.push(env);
  const victim = path.join(dir, 'root-owned.txt');
  fs.writeFileSync(victim, 'precious\n', { mode: 0o600 });
  const victimDir = path.join(dir, 'root-folder');
  fs.mkdirSync(victimDir, { mode: 0o755 });
  fs.writeFileSync(path.join(victimDir, 'keep.txt'), 'keep\n');
  return { dir, work, env, victim, victimDir };
}

/** Runs a command as the server account (as root), or as ourselves: the attacker's hand. */
async function plant(command: string, ...args: string[]): Promise<void> {
  const argv = IS_ROOT ? ['runuser', '-u', SERVER_ACCOUNT, '--', command, ...args] : [command, ...args];
  const result = await runProgram(argv[0]!, argv.slice(1));
  expect(result.code, result.stderr).toBe(0);
}

function snapshot(file: string): { text: string; uid: number; mode: number } {
  const stat = fs.statSync(file);
  return { text: stat.isFile() ? fs.readFileSync(file, 'utf8') : fs.readdirSync(file).join(','), uid: stat.uid, mode: stat.mode };
}

/** A cluster made and stopped: the state the server account attacks between two runs. */
async function stoppedCluster(s: Setup): Promise<void> {
  const first = await runBin('postgres-init', [], { env: s.env });
  expect(first.code, first.stderr).toBe(0);
  expect((await runBin('postgres-cleanup', [], { env: s.env })).code).toBe(0);
}

function serverRunning(work: string): boolean {
  const pidfile = path.join(work, 'data', 'postmaster.pid');
  if (!fs.existsSync(pidfile)) return false;
  const pid = Number(fs.readFileSync(pidfile, 'utf8').split('\n')[0]);
  return fs.existsSync(`/proc/${pid}`);
}

function expectRefused(result: { code: number; stderr: string }, file: string, what: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n').filter((line) => line.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`refusing to use ${file}`);
  expect(lines[0]).toMatch(what);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('files of the server account, run as root', () => {
  it('refuses a server.log that the server account replaced by a link (the attack of issue 19)', async () => {
    const s = setup();
    await stoppedCluster(s);
    const before = snapshot(s.victim);
    const serverLog = path.join(s.work, 'server.log');
    await plant('ln', '-sfn', s.victim, serverLog);
    const result = await runBin('postgres-init', ['--reuse'], { env: { ...s.env, PG_DISABLE_LOGGING: '1' } });
    expectRefused(result, serverLog, /symbolic link/);
    expect(snapshot(s.victim)).toEqual(before);
    // Nothing runs that could write into it later (copy … to program 'echo >&2').
    expect(serverRunning(s.work)).toBe(false);
  });

  it('refuses a FIFO for server.log at once, instead of hanging on it', async () => {
    const s = setup();
    await stoppedCluster(s);
    const serverLog = path.join(s.work, 'server.log');
    fs.rmSync(serverLog, { force: true });
    await plant('mkfifo', serverLog);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env, timeoutMs: 30_000 });
    expectRefused(result, serverLog, /FIFO/);
  });

  it('refuses a server.log that is a hard link to another file', async () => {
    const s = setup();
    await stoppedCluster(s);
    const before = snapshot(s.victim);
    const serverLog = path.join(s.work, 'server.log');
    fs.rmSync(serverLog, { force: true });
    // fs.protected_hardlinks stops the server account from linking root's file itself; a
    // machine without it would not: made here by us, the refusal is what is tested.
    fs.linkSync(s.victim, serverLog);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expectRefused(result, serverLog, /hard link/);
    expect(snapshot(s.victim)).toEqual(before);
  });

  it('refuses a postgresql.conf replaced by a link, and leaves the target as it was', async () => {
    const s = setup();
    await stoppedCluster(s);
    const before = snapshot(s.victim);
    const conf = path.join(s.work, 'data', 'postgresql.conf');
    await plant('ln', '-sfn', s.victim, conf);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expectRefused(result, conf, /symbolic link/);
    expect(snapshot(s.victim)).toEqual(before);
  });

  it('never chowns a folder the log folder was replaced by a link to', async () => {
    const s = setup();
    await stoppedCluster(s);
    const before = snapshot(s.victimDir);
    const logDir = path.join(s.work, 'data', 'log');
    await plant('rm', '-rf', logDir);
    await plant('ln', '-sfn', s.victimDir, logDir);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expectRefused(result, logDir, /symbolic link/);
    expect(snapshot(s.victimDir)).toEqual(before);
  });

  it('never chowns nor empties a folder the socket folder was replaced by a link to', async () => {
    const s = setup();
    await stoppedCluster(s);
    const before = snapshot(s.victimDir);
    const sock = path.join(s.work, 'sock');
    await plant('rm', '-rf', sock);
    await plant('ln', '-sfn', s.victimDir, sock);
    const reused = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expectRefused(reused, sock, /symbolic link/);
    expect(snapshot(s.victimDir)).toEqual(before);
    // A fresh start clears the socket folder: the link goes, not what it names.
    const fresh = await runBin('postgres-init', [], { env: s.env });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(snapshot(s.victimDir)).toEqual(before);
    expect(fs.lstatSync(sock).isDirectory()).toBe(true);
  });

  it('never creates a file through a dangling link planted as its marker', async () => {
    const s = setup();
    await stoppedCluster(s);
    const marker = path.join(s.work, '.db-tool');
    const target = path.join(s.dir, 'created-by-root');
    await plant('rm', '-f', marker);
    await plant('ln', '-sfn', target, marker);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expect(result.code, result.stderr).toBe(0);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('a FIFO planted as postmaster.pid never hangs cleanup or status', async () => {
    const s = setup();
    await stoppedCluster(s);
    await plant('mkfifo', path.join(s.work, 'data', 'postmaster.pid'));
    const cleanup = await runBin('postgres-cleanup', [], { env: s.env, timeoutMs: 20_000 });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    const status = await runBin('database', ['status', '--json'], { env: s.env, timeoutMs: 20_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
  });

  it('database log never shows a file through a link planted among the logs', async () => {
    const s = setup();
    await stoppedCluster(s);
    await plant('ln', '-sfn', s.victim, path.join(s.work, 'data', 'log', 'postgresql-zzzz.log'));
    await plant('ln', '-sfn', s.victim, path.join(s.work, 'server.log'));
    const listed = await runBin('database', ['log', 'list'], { env: s.env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain('zzzz');
    const shown = await runBin('database', ['log'], { env: s.env });
    expect(shown.stdout + shown.stderr).not.toContain('precious');
  });

  // Root only: as an ordinary user PG_LOG_PATH is our own folder, where a link is ours
  // too and is followed as asked (HYDRATE_LOG=/dev/stdout style); there is no other account.
  it.runIf(IS_ROOT)('as root: hydrate output never goes through a link planted in PG_LOG_PATH', async () => {
    const s = setup();
    const project = copyProject('deploy-project');
    dirs.push(project.dir);
    const logs = path.join(s.dir, 'logs');
    const env = { ...s.env, LOCAL_DIR: project.dir, PG_LOG_PATH: logs };
    envs.push(env);
    const init = await runBin('postgres-init', ['--env'], { env });
    expect(init.code, init.stderr).toBe(0);
    const before = snapshot(s.victim);
    const hydrateLog = path.join(logs, 'hydrate.stdout.log');
    await plant('ln', '-sfn', s.victim, hydrateLog);
    const deploy = await runBin('database', ['hydrate'], { env: { ...env, PGURL: parseExports(init.stdout).PGURL! }, cwd: project.dir });
    expectRefused(deploy, hydrateLog, /symbolic link/);
    expect(snapshot(s.victim)).toEqual(before);
  });

  it('keeps working as before when nothing is planted: server.log and the folders are the expected ones', async () => {
    const s = setup();
    await stoppedCluster(s);
    const result = await runBin('postgres-init', ['--reuse'], { env: s.env });
    expect(result.code, result.stderr).toBe(0);
    expect(fs.lstatSync(path.join(s.work, 'server.log')).isFile()).toBe(true);
    const serverUid = fs.statSync(path.join(s.work, 'data')).uid;
    for (const folder of ['sock', 'data/log']) expect(fs.lstatSync(path.join(s.work, folder)).uid).toBe(serverUid);
    if (IS_ROOT) expect(serverUid).not.toBe(0);
  });
});

/**
 * SPEC §12: as root the cluster belongs to and runs as PG_OS_USER; as an ordinary user
 * it runs as that user. When the suite runs as root, the ordinary-user case is driven
 * through runuser; when it runs as an ordinary user, every other test already is that case.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { BIN, IS_ROOT, ROOT, makeTempDir } from './helpers/env.js';

const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return dir;
}

function ownerOf(file: string): number {
  return fs.statSync(file).uid;
}

describe('server account', () => {
  it('runs the cluster as the invoking user, or as PG_OS_USER when root', async () => {
    const dir = tempDir();
    const env = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
    envs.push(env);
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code, result.stderr).toBe(0);
    const expected = IS_ROOT ? 'postgres' : os.userInfo().username;
    expect(parseExports(result.stdout).POSTGRESQL_USER).toBe(expected);
    const pid = Number(fs.readFileSync(path.join(dir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    expect(uid).not.toBe(0);
    expect(ownerOf(path.join(dir, 'pg', 'data'))).toBe(uid);
    expect(ownerOf(path.join(dir, 'pg', 'data', 'hectic_secret.conf'))).toBe(uid);
    expect(fs.statSync(path.join(dir, 'pg', 'data', 'hectic_secret.conf')).mode & 0o077).toBe(0);
  });

  it.runIf(IS_ROOT)('as root: fails clearly when PG_OS_USER does not exist', async () => {
    const dir = tempDir();
    const result = await runBin('postgres-init', [], { env: { PG_WORKING_DIR: path.join(dir, 'pg'), PG_OS_USER: 'no_such_user_xyz' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PG_OS_USER='no_such_user_xyz'.*does not exist/);
  });

  it.runIf(IS_ROOT)('as root: fails clearly when PG_OS_USER cannot reach the folder', async () => {
    const dir = tempDir();
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o700 });
    const result = await runBin('postgres-init', [], { env: { PG_WORKING_DIR: path.join(locked, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PG_OS_USER 'postgres' cannot reach/);
  });

  it.runIf(IS_ROOT)('as root: the tools also work for an ordinary user (runuser)', async () => {
    const dir = tempDir();
    // The unprivileged user needs to read the program; a clone under /root is not readable by it.
    const runuserCanRead = (await runProgram('runuser', ['-u', 'postgres', '--', 'test', '-r', path.join(ROOT, 'dist', 'cli', 'database.js')])).code === 0;
    let bin = BIN;
    if (!runuserCanRead) {
      const copy = path.join(dir, 'db-tool');
      fs.mkdirSync(copy);
      for (const entry of ['bin', 'dist', 'sql', 'package.json', 'node_modules']) {
        await runProgram('cp', ['-a', path.join(ROOT, entry), copy]);
      }
      await runProgram('chmod', ['-R', 'a+rX', copy]);
      bin = path.join(copy, 'bin');
    }
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    const postgres = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))!.split(':');
    fs.chownSync(home, Number(postgres[2]), Number(postgres[3]));
    fs.chownSync(work, Number(postgres[2]), Number(postgres[3]));
    const script = `. "${bin}/postgres-init" || exit 7
psql -X -At "$PGURL" -c 'select current_user'
"${bin}/database" status --json >/dev/null || exit 8
"${bin}/postgres-cleanup"`;
    const result = await runProgram('runuser', ['-u', 'postgres', '--', 'env', `HOME=${home}`, `XDG_CACHE_HOME=${home}/.cache`, `PG_WORKING_DIR=${work}/pg`, 'PG_SHARED_PRELOAD_LIBRARIES=', 'sh', '-c', script], {});
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('postgres');
    expect(ownerOf(path.join(work, 'pg', 'data'))).toBe(Number(postgres[2]));
  });
});

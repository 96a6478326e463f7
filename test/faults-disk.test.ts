/**
 * SPEC §12, a full disk: one short line naming the folder and the cause, the full
 * output of the failing program in a log file named in the message, nothing half-made
 * left running, and earlier state intact (the cluster being replaced, the previous
 * backup, test-data.sql). The disks are small tmpfs mounts, so these tests need root;
 * as an ordinary user they are skipped, saying why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { startTestCluster } from './helpers/cluster.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';
import { fillDisk, killEverythingBelow, mountTmpfs, NEEDS_ROOT, unmount } from './helpers/faults.js';
import { copyProject, queryValue, serversBelow } from './helpers/project.js';
import { sshdAvailable, startSshd } from './helpers/sshd.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A tmpfs of `sizeMb` at `dir`, unmounted after the test (after what runs on it is stopped). */
function smallDisk(dir: string, sizeMb: number): string {
  mountTmpfs(dir, sizeMb);
  cleanups.push(() => unmount(dir));
  return dir;
}

/** The one line a fault gives, and the log file it names (which must exist). */
function expectOneLineFault(stderr: string, folder: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(`no space left on device in ${folder}`);
  const log = /full output in (\S+)\)/.exec(lines[0]!)?.[1];
  if (log) expect(fs.readFileSync(log, 'utf8').length).toBeGreaterThan(0);
}

/** A test that needs root; as an ordinary user it is skipped, its name saying why. */
function rootOnly(name: string, test: () => Promise<void>): void {
  it.skipIf(!IS_ROOT)(IS_ROOT ? name : `${name} (${NEEDS_ROOT})`, test);
}

describe(`a full disk (${IS_ROOT ? 'tmpfs mounts' : NEEDS_ROOT})`, () => {
  rootOnly('postgres-init on a disk too small for a cluster: one line, no server, nothing half-made', async () => {
    const root = makeTempDir('db-tool-disk-');
    const workingDir = smallDisk(path.join(root, 'pg'), 8);
    const env = { PG_WORKING_DIR: workingDir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
      killEverythingBelow(root);
    });
    cleanups.unshift(() => fs.rmSync(root, { recursive: true, force: true }));
    const result = await runBin('postgres-init', [], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/cp: cannot/);
    expectOneLineFault(result.stderr, workingDir);
    expect(result.stderr).toContain('full output in');
    expect(serversBelow(root)).toEqual([]);
    expect(fs.readdirSync(workingDir).filter((name) => name === 'data' || name.startsWith('.trash-'))).toEqual([]);
  });

  rootOnly('a fresh start or a restore that does not fit leaves the running cluster and its data as they were', async () => {
    const root = makeTempDir('db-tool-disk-');
    const workingDir = smallDisk(path.join(root, 'pg'), 64);
    const project = copyProject('deploy-project');
    const env = { PG_WORKING_DIR: workingDir, LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
      killEverythingBelow(root);
    });
    cleanups.unshift(() => {
      fs.rmSync(root, { recursive: true, force: true });
      project.remove();
    });
    const first = await runBin('postgres-init', ['--env'], { env });
    expect(first.code, first.stderr).toBe(0);
    const url = parseExports(first.stdout).PGURL!;
    await queryValue(url, 'CREATE TABLE precious (id int)');
    await queryValue(url, 'INSERT INTO precious VALUES (42)');
    // A backup on the roomy disk, for the restore below.
    expect((await runBin('database', ['backup'], { env })).code).toBe(0);

    const fresh = await runBin('postgres-init', [], { env });
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain(`no space left on device in ${workingDir}`);
    expect(fresh.stderr.split('\n').filter((line) => line.includes('no space'))).toHaveLength(1);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(42);
    expect(fs.readdirSync(workingDir).filter((name) => name.startsWith('.trash-fresh-'))).toEqual([]);

    const restore = await runBin('database', ['restore'], { env });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain(`no space left on device in ${workingDir}`);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(42);
    expect(fs.readdirSync(workingDir).filter((name) => name.startsWith('.trash-restore-'))).toEqual([]);

    const reuse = await runBin('postgres-init', [], { env: { ...env, PG_REUSE: '1' } });
    expect(reuse.code, reuse.stderr).toBe(0);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(42);
  });

  rootOnly('a backup onto a full disk: one line, the previous backup intact, no partial backup left', async () => {
    const project = copyProject('deploy-project');
    const clusterRoot = makeTempDir('db-tool-disk-pg-');
    const env = { LOCAL_DIR: project.dir, PG_WORKING_DIR: path.join(clusterRoot, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
    const focus = smallDisk(path.join(project.dir, 'focus'), 48);
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
      killEverythingBelow(clusterRoot);
    });
    cleanups.unshift(() => {
      project.remove();
      fs.rmSync(clusterRoot, { recursive: true, force: true });
    });
    const init = await runBin('postgres-init', ['--env'], { env });
    expect(init.code, init.stderr).toBe(0);
    expect((await runBin('database', ['backup'], { env })).code).toBe(0);
    const backup = path.join(focus, 'postgresql-backup');
    const before = fs.readdirSync(backup).map((name) => [name, fs.readFileSync(path.join(backup, name)).toString('base64')]);
    fillDisk(focus);
    const result = await runBin('database', ['backup'], { env });
    expect(result.code).toBe(1);
    expectOneLineFault(result.stderr, focus);
    expect(result.stderr).toContain('the previous backup is kept');
    expect(fs.readdirSync(backup).map((name) => [name, fs.readFileSync(path.join(backup, name)).toString('base64')])).toEqual(before);
    expect(fs.readdirSync(focus).filter((name) => name.includes('.partial-'))).toEqual([]);
    expect(await queryValue(parseExports(init.stdout).PGURL!, 'SELECT 1')).toBe(1);
  });

  rootOnly('pull_staging onto a full disk: one line, test-data.sql unchanged, no temp file', async () => {
    if (!sshdAvailable()) throw new Error('openssh-server is required for this test (apt-get install openssh-server)');
    const staging = await startTestCluster();
    cleanups.push(() => staging.stop());
    const sshd = await startSshd();
    cleanups.push(() => sshd.stop());
    await queryValue(staging.url, 'CREATE TABLE users (id serial PRIMARY KEY, name text)');
    await queryValue(staging.url, "INSERT INTO users (name) SELECT 'user ' || n FROM generate_series(1, 5000) AS n");
    const profile = smallDisk(path.join(makeTempDir('db-tool-disk-profile-'), 'profile'), 1);
    cleanups.unshift(() => fs.rmSync(path.dirname(profile), { recursive: true, force: true }));
    const previous = '-- the previous test data\nSELECT 1;\n';
    fs.writeFileSync(path.join(profile, 'test-data.sql'), previous);
    const env = {
      PATH: `${sshd.binDir}:${process.env.PATH ?? ''}`,
      PROFILE_DIR: profile,
      STAGING_SSH_HOST: sshd.host,
      STAGING_DB_URL: staging.url,
      STAGING_DUMP_TABLES: 'users',
      STAGING_DUMP_FLAGS: '--data-only --column-inserts',
    };
    // Room for the header, not for the dump (ssh writes it); then no room at all.
    for (const leave of [16 * 1024, 0]) {
      fillDisk(profile, leave);
      const result = await runBin('database', ['pull_staging'], { env });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`no space left on device in ${profile}`);
      expect(result.stderr).toContain('is unchanged');
      expect(fs.readFileSync(path.join(profile, 'test-data.sql'), 'utf8')).toBe(previous);
      expect(fs.readdirSync(profile).sort()).toEqual(['.filler', 'test-data.sql']);
      fs.rmSync(path.join(profile, '.filler'));
    }
  });
});

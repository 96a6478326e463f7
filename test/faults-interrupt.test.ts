/**
 * SPEC §17 "Security": a command's child process groups end with it (real SIGINT and
 * SIGTERM while pg_basebackup streams, throttled with --max-rate, its WAL streamer
 * holding a walsender); a start that fails stops its server; a cluster wiped under a
 * running test takes its RAM folder with it. (The SIGKILL cases, which `database doctor`
 * must report, are in faults-killed-owner.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { expectNoStreamerLeft, interruptedRuns, partialBackups, ramFolders, runCleanups, startCluster, walsenders, type Cleanups } from './helpers/interrupted-runs.js';
import { databaseOf, queryValue, serversBelow, urlFor } from './helpers/project.js';

const cleanups: Cleanups = [];
const { clusterProject, slowBasebackup, signalWhen, stuckTestRun } = interruptedRuns(cleanups);

afterEach(() => runCleanups(cleanups));

describe('interrupted database backup', () => {
  it('SIGTERM and SIGINT while streaming: exit 143/130, no pg_basebackup and no walsender left, the next backup works', async () => {
    const { project, env } = clusterProject();
    const url = await startCluster(env);
    const slow = { ...env, PG_BIN_DIR: slowBasebackup() };
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const result = await signalWhen(['backup'], slow, async () => (await walsenders(url)) >= 2, signal, 'pg_basebackup to stream');
      expect(result.code, result.stderr).toBe(code);
      await expectNoStreamerLeft(url, project);
      expect(partialBackups(project)).toEqual([]);
    }
    const backup = await runBin('database', ['backup'], { env });
    expect(backup.code, backup.stderr).toBe(0);
  });
});

describe('a start that fails after the server runs', () => {
  it('postgres-init --reuse whose database cannot be made: exit non-zero and no server left', async () => {
    const { project, env } = clusterProject();
    const url = await startCluster(env);
    const admin = urlFor(url, 'postgres');
    // The server comes up, but read-only: the missing database cannot be created.
    await queryValue(admin, 'ALTER SYSTEM SET default_transaction_read_only = on');
    await queryValue(admin, `DROP DATABASE ${databaseOf(url)}`);
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    const init = await runBin('postgres-init', ['--reuse'], { env });
    expect(init.code, init.stderr).not.toBe(0);
    expect(init.stderr).toMatch(/read-only/);
    expect(serversBelow(project.dir)).toEqual([]);
  });
});

describe('a cluster wiped or removed under a running test', () => {
  for (const command of [['deploy', '--no-patch'], ['cleanup']]) {
    it(`database ${command[0]} removes the test run's RAM tablespace folder with the cluster`, async () => {
      const { project, env } = clusterProject();
      const url = await startCluster(env);
      const { run, made } = await stuckTestRun(project, env, url);
      expect(made).toHaveLength(1);
      const wipe = await runBin('database', command, { env });
      expect(wipe.code, wipe.stderr).toBe(0);
      expect((await run.done).code).not.toBe(0);
      expect(ramFolders()).not.toContain(made[0]);
    });
  }
});

/**
 * Snapshots of the human output of status, migrate status, doctor, test and the diff
 * report (issue 9): the words and layout a user reads, with the volatile parts (paths,
 * times, sizes, versions, the OS user) filtered through the one reviewed list in
 * helpers/volatile.ts. A change to these outputs must show up here, on purpose.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from './helpers/cli.js';
import { makeTempDir, ROOT } from './helpers/env.js';
import { stable } from './helpers/volatile.js';

let project: string;
let env: Record<string, string | undefined>;

async function must(result: Promise<CliResult>, what: string): Promise<CliResult> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed (${done.code}): ${done.stderr}`);
  return done;
}

beforeAll(async () => {
  project = makeTempDir('db-tool-output-');
  fs.cpSync(path.join(ROOT, 'examples', 'shop'), project, { recursive: true });
  for (const entry of fs.readdirSync(project, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  env = { LOCAL_DIR: project, PG_SHARED_PRELOAD_LIBRARIES: '', PGURL: undefined, DB_URL: undefined };
  await must(runBin('database', ['deploy'], { env }), 'database deploy');
});

afterAll(async () => {
  if (!project) return;
  await runBin('database', ['cleanup'], { env });
  fs.rmSync(project, { recursive: true, force: true });
});

describe('human output', () => {
  it('database status', async () => {
    const result = await runBin('database', ['status'], { env });
    expect(result.code).toBe(0);
    expect(stable(result.stdout)).toMatchInlineSnapshot(`
      "cluster:    running (pid <pid>)
      url:        postgresql://<user>@/testdb?host=<path>&port=5432
      database:   testdb
      data dir:   <path>
      postgres:   <pg-version>
      size:       <size>
      migrations: 3 applied (3 as the baseline of a build from the sources), 0 pending
      "
    `);
  });

  it('database migrator migrate status', async () => {
    const result = await runBin('database', ['migrator', 'migrate', 'status'], { env });
    expect(result.code).toBe(0);
    expect(stable(result.stdout)).toMatchInlineSnapshot(`
      "<stamp>-catalog                 applied  <time>  baseline
      <stamp>-orders                  applied  <time>  baseline
      <stamp>-order-note-and-payment  applied  <time>  baseline
      "
    `);
  });

  it('database doctor (status and check of each line; the values are this machine\'s)', async () => {
    const result = await runBin('database', ['doctor'], { env });
    // Leftover clusters are the whole machine's state (other test files run in parallel).
    const machineState = new Set(['leftover clusters']);
    const checks = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s{2,}/).slice(0, 2))
      .map(([status, check]) => `${machineState.has(check ?? '') ? '<state>' : status}  ${check}`)
      .join('\n');
    expect(stable(checks)).toMatchInlineSnapshot(`
      "ok  program initdb
      ok  program postgres
      ok  program psql
      ok  program pg_dump
      ok  program pg_basebackup
      ok  preload libraries
      ok  program ssh
      ok  LOCAL_DIR
      ok  PG_WORKING_DIR
      warn  DB_URL
      ok  working dir
      ok  socket path
      ok  server account
      <state>  leftover clusters
      ok  test clones"
    `);
  });

  it('database test', async () => {
    const result = await runBin('database', ['test'], { env });
    expect(result.code).toBe(0);
    expect(stable(`${result.stdout}--- stderr ---\n${result.stderr}`)).toMatchInlineSnapshot(`
      "ok     <path>  7 passed, 1 skipped  (<duration>)
      PASS: 7 passed, 1 skipped (1 file, <duration>)
      --- stderr ---
      "
    `);
  });

  it('database diff report', async () => {
    await must(runBin('database', ['backup'], { env }), 'database backup');
    const result = await runBin('database', ['diff'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(stable(result.stdout)).toMatchInlineSnapshot(`
      "database diff: no differences
        DB1 = backup <path> + migrate up all (0 migrations applied)
        DB2 = sources <path> + migrator init
        compared 96 schema objects and the data of 1 table
        privileges and owners were not compared (--privileges compares grants and default privileges)
      "
    `);
  });
});

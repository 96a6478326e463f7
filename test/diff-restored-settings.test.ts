/**
 * DB1, the backup restored for a diff, runs with the tool's private settings even when
 * the backed-up cluster had others set with ALTER SYSTEM (postgresql.auto.conf, which the
 * backup carries and the server reads last): no WAL archiving into the original's
 * archive, no TCP. The pending migration reports the settings DB1 runs with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { queryValue } from './helpers/project.js';

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
  // The backed-up cluster archives its WAL and listens on TCP, as production does.
  const started = await runBin('postgres-init', ['--env'], { env: { ...project.env, PG_REUSE: '1' } });
  expect(started.code, started.stderr).toBe(0);
  const url = Object.values(parseExports(started.stdout)).find((value) => value.startsWith('postgresql://')) as string;
  await queryValue(url, "ALTER SYSTEM SET archive_mode = 'on'");
  await queryValue(url, "ALTER SYSTEM SET archive_command = 'false'");
  await queryValue(url, "ALTER SYSTEM SET listen_addresses = '127.0.0.1'");
  const backup = await runBin('database', ['backup'], { env: project.env });
  expect(backup.code, backup.stderr).toBe(0);
  expect((await runBin('postgres-cleanup', [], { env: project.env })).code).toBe(0);
}, 180_000);

afterAll(async () => {
  await project?.remove();
});

it("DB1 runs without archiving and without TCP, whatever the backup's ALTER SYSTEM settings say", async () => {
  const seen = path.join(project.dir, 'seen');
  // The server account writes the file (as root the cluster runs as PG_OS_USER).
  fs.chmodSync(project.dir, 0o777);
  const migration = path.join(project.dir, 'db', 'migration', '20240201000000-prices', 'up.sql');
  fs.appendFileSync(migration, `\nCOPY (SELECT current_setting('archive_mode') || ' [' || current_setting('listen_addresses') || ']') TO '${seen}';\n`);
  const diff = await runBin('database', ['diff'], { env: project.env, timeoutMs: 90_000 });
  expect(diff.code, diff.stderr).toBeLessThanOrEqual(1);
  expect(fs.readFileSync(seen, 'utf8').trim()).toBe('off []');
});

/**
 * A backup whose cluster cannot start here (a setting the tool does not override) is a
 * side that cannot be built (exit 2), said in PostgreSQL's own words: the reason on the
 * error's line, and the log's last lines below it once — a private cluster's server.log
 * lies in its own log folder, and was shown twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { backupAfterStatements, makeDiffProject, type DiffProject } from './helpers/diff-project.js';

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
  // Accepted now, refused at the next start: WAL senders need wal_level replica.
  await backupAfterStatements(project, ['ALTER SYSTEM SET wal_level = minimal', 'ALTER SYSTEM SET max_wal_senders = 5']);
}, 180_000);

afterAll(async () => {
  await project?.remove();
});

it("names why DB1 cannot start, and shows the server log's lines once", async () => {
  const diff = await runBin('database', ['diff'], { env: project.env, timeoutMs: 90_000 });
  expect(diff.code, diff.stderr).toBe(2);
  const reason = /WAL streaming \(max_wal_senders > 0\) requires wal_level "?replica"? or "?logical"?/;
  const lines = diff.stderr.split('\n');
  const error = lines.findIndex((line) => line.startsWith('error: '));
  expect(lines[error]).toMatch(/PostgreSQL server failed to start for \S*\/db1\/data: /);
  expect(lines[error]).toMatch(reason);
  const logLines = lines.slice(error + 1).filter((line) => reason.test(line));
  expect(logLines).toHaveLength(1);
});

/**
 * DB1, the backup restored for a diff, runs with the tool's private settings even when
 * the backed-up cluster had others set with ALTER SYSTEM (postgresql.auto.conf, which the
 * backup carries and the server reads last): no WAL archiving into the original's
 * archive, no TCP. And it starts here whatever production's size: shared memory that
 * would not fit this machine, huge pages, certificates that are not here, preload
 * libraries this PostgreSQL lacks, a pg_hba.conf that asks the tool for a password. The
 * pending migration reports the settings DB1 runs with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { backupAfterStatements, makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { editBackupBase } from './helpers/backup-archive.js';

let project: DiffProject;

beforeAll(async () => {
  project = await makeDiffProject('shop', 1);
  await backupAfterStatements(project, [
    // The backed-up cluster archives its WAL and listens on TCP, as production does.
    "ALTER SYSTEM SET archive_mode = 'on'",
    "ALTER SYSTEM SET archive_command = 'false'",
    "ALTER SYSTEM SET listen_addresses = '127.0.0.1'",
    // Production's size and extensions: none of these would start here.
    "ALTER SYSTEM SET shared_buffers = '1TB'",
    'ALTER SYSTEM SET huge_pages = on',
    'ALTER SYSTEM SET ssl = on',
    "ALTER SYSTEM SET ssl_cert_file = '/nonexistent/db-tool-test/server.crt'",
    // plpgsql is a library every PostgreSQL has.
    "ALTER SYSTEM SET shared_preload_libraries = 'plpgsql', 'db_tool_no_such_library'",
  ]);
  // Production's pg_hba.conf travels in the base backup (a password for every local
  // connection), and its postgresql.conf names a locale of its machine.
  await editBackupBase(path.join(project.dir, 'focus', 'postgresql-backup'), project.dir, (unpacked) => {
    fs.writeFileSync(path.join(unpacked, 'pg_hba.conf'), 'local all all scram-sha-256\n');
    fs.appendFileSync(path.join(unpacked, 'postgresql.conf'), "\nlc_time = 'xx_YY.UTF-8'\n");
  });
}, 180_000);

afterAll(async () => {
  await project?.remove();
});

/** Runs a diff whose pending migration writes the values of `settings` (one line) into a file, and returns them with the diff's stderr. */
async function settingsSeenByDb1(settings: readonly string[]): Promise<{ seen: string; stderr: string }> {
  const seen = path.join(project.dir, `seen-${settings.join('-')}`);
  // The server account writes the file (as root the cluster runs as PG_OS_USER).
  fs.chmodSync(project.dir, 0o777);
  const migration = path.join(project.dir, 'db', 'migration', '20240201000000-prices', 'up.sql');
  const values = settings.map((name) => `current_setting('${name}')`).join(" || ' ' || ");
  const original = fs.readFileSync(migration, 'utf8');
  fs.appendFileSync(migration, `\nCOPY (SELECT ${values}) TO '${seen}';\n`);
  try {
    const diff = await runBin('database', ['diff'], { env: project.env, timeoutMs: 90_000 });
    expect(diff.code, diff.stderr).toBeLessThanOrEqual(1);
    return { seen: fs.readFileSync(seen, 'utf8').trim(), stderr: diff.stderr };
  } finally {
    fs.writeFileSync(migration, original);
  }
}

it("DB1 runs without archiving and without TCP, whatever the backup's ALTER SYSTEM settings say", async () => {
  const { seen } = await settingsSeenByDb1(['archive_mode', 'listen_addresses', 'ssl']);
  expect(seen).toBe('off  off');
});

it("DB1 starts with this machine's shared memory, locales and the preload libraries it has, naming those it lacks", async () => {
  const { seen, stderr } = await settingsSeenByDb1(['shared_buffers', 'huge_pages', 'shared_preload_libraries', 'lc_time']);
  expect(seen).toBe('128MB off plpgsql C');
  expect(stderr).toMatch(/lc_time = 'xx_YY.UTF-8', a locale this machine lacks: DB1 uses C/);
  expect(stderr).toMatch(/preloads db_tool_no_such_library, not installed for this PostgreSQL: DB1 starts without it/);
  // A throw-away copy's memory and privacy settings are DB1's by design: no line about
  // them on every diff.
  expect(stderr).not.toMatch(/shared_buffers|huge_pages|listen_addresses|archive_mode = on|ssl = on|pg_hba/);
});

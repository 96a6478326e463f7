/**
 * `database restore` of a backup made on another machine (production): its
 * configuration travels in the base backup (postgresql.auto.conf from ALTER SYSTEM,
 * pg_hba.conf) and would not start here, or would open the copy to the network, or
 * lock the tool out. The restore overrides only what cannot work here or must not, one
 * warning line each, and keeps the rest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBin, runProgram } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';
import { editBackupBase } from './helpers/backup-archive.js';

/** pg_cron for this PostgreSQL, as `pg_config` says where its libraries are. */
async function pgCronInstalled(): Promise<boolean> {
  const libDir = await runProgram('pg_config', ['--pkglibdir']);
  return libDir.code === 0 && fs.existsSync(path.join(libDir.stdout.trim(), 'pg_cron.so'));
}

let dir: string;
let env: Record<string, string>;
let prodBackup: string;
let devBackup: string;
let debianBackup: string;
let cronBackup: string;
let rolelessBackup: string;

/** Production's local rule: a password for everyone, as the tool never has one. */
const PRODUCTION_HBA = 'local all all scram-sha-256\nhost all all 0.0.0.0/0 scram-sha-256\n';

async function psql(url: string, sql: string): Promise<string> {
  const result = await runProgram('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql]);
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** `name=value` of each setting, as the running server has it, in the order given. */
async function settings(url: string, names: readonly string[]): Promise<string> {
  const list = names.map((name) => `'${name}'`).join(', ');
  return psql(url, `SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY ord) FROM unnest(ARRAY[${list}]) WITH ORDINALITY AS s(name, ord)`);
}

function readyUrl(stderr: string): string {
  const match = /PostgreSQL ready: (\S+)/.exec(stderr);
  if (!match?.[1]) throw new Error(`no URL in: ${stderr}`);
  return match[1];
}

async function runningUrl(): Promise<string> {
  const init = await runBin('database', ['init', '--reuse'], { env });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  return readyUrl(init.stderr);
}

/** Backs the cluster up with `settings` set by ALTER SYSTEM, into `target` (then resets them). */
async function backUpWith(url: string, settings: readonly string[], target: string): Promise<void> {
  for (const setting of settings) await psql(url, `ALTER SYSTEM SET ${setting}`);
  try {
    const backup = await runBin('database', ['backup'], { env });
    if (backup.code !== 0) throw new Error(`backup failed: ${backup.stderr}`);
    fs.cpSync(path.join(dir, 'focus', 'postgresql-backup'), target, { recursive: true });
  } finally {
    await psql(url, 'ALTER SYSTEM RESET ALL');
  }
}

/**
 * A backup of a cluster whose superuser is not named as the tool's role (production's
 * `postgres` restored by a developer whose clusters' superuser is named after them, or
 * the other way round): made by pg_basebackup as another superuser while the tool's
 * role is renamed, then renamed back.
 */
async function backUpWithoutToolRole(url: string, target: string): Promise<void> {
  const toolRole = await psql(url, 'SELECT current_user');
  await psql(url, 'CREATE ROLE prod_admin SUPERUSER LOGIN REPLICATION');
  const admin = url.replace(/^postgresql:\/\/[^@]*@/, 'postgresql://prod_admin@');
  const socket = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  await psql(admin, `ALTER ROLE "${toolRole}" RENAME TO former_admin`);
  try {
    const args = ['-h', socket.get('host') ?? '', '-p', socket.get('port') ?? '', '-U', 'prod_admin', '-D', target, '-Ft', '-z', '-Xstream', '-c', 'fast'];
    const backup = await runProgram('pg_basebackup', args);
    if (backup.code !== 0) throw new Error(`pg_basebackup failed: ${backup.stderr}`);
  } finally {
    await psql(admin, `ALTER ROLE former_admin RENAME TO "${toolRole}"`);
    await psql(url, 'DROP ROLE prod_admin');
  }
}

/** The lines of `stderr` that are warnings. */
function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('warn: '));
}

beforeAll(async () => {
  dir = makeTempDir('db-tool-restore-prod-');
  env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
  prodBackup = path.join(dir, 'production-backup');
  devBackup = path.join(dir, 'dev-backup');
  debianBackup = path.join(dir, 'debian-backup');
  cronBackup = path.join(dir, 'cron-backup');
  rolelessBackup = path.join(dir, 'roleless-backup');
  const url = await runningUrl();
  await psql(url, "CREATE TABLE note (id serial PRIMARY KEY, body text); INSERT INTO note (body) VALUES ('from the backup')");
  // Production's size, certificates, extensions, network and archive: none of it is here.
  await backUpWith(url, [
    "shared_buffers = '1TB'",
    'huge_pages = on',
    'ssl = on',
    "ssl_cert_file = '/nonexistent/db-tool-test/server.crt'",
    // plpgsql is a library every PostgreSQL has.
    "shared_preload_libraries = 'plpgsql', 'db_tool_no_such_library'",
    "listen_addresses = '*'",
    'archive_mode = on',
    "archive_command = 'false'",
    "work_mem = '64MB'",
    // Set by the tool at every start, which its server must not lose.
    'port = 6543',
    "unix_socket_directories = '/nonexistent/db-tool-test/sock'",
  ], prodBackup);
  await editBackupBase(prodBackup, dir, (unpacked) => {
    fs.writeFileSync(path.join(unpacked, 'pg_hba.conf'), PRODUCTION_HBA);
    // A log folder, a locale and a time zone of production's machine.
    const productionConf = "log_directory = '/nonexistent/db-tool-test/logs'\nlc_time = 'xx_YY.UTF-8'\ntimezone = 'Mars/Olympus'\n";
    fs.appendFileSync(path.join(unpacked, 'postgresql.conf'), `\n${productionConf}`);
  });
  // Debian's clusters keep their configuration files in /etc/postgresql, out of the data folder.
  fs.cpSync(prodBackup, debianBackup, { recursive: true });
  await editBackupBase(debianBackup, dir, (unpacked) => {
    for (const file of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) fs.rmSync(path.join(unpacked, file));
  });
  // A developer's own backup: settings that fit this machine.
  await backUpWith(url, ["shared_buffers = '256MB'", 'huge_pages = try', "shared_preload_libraries = 'plpgsql'", "work_mem = '32MB'"], devBackup);
  await editBackupBase(devBackup, dir, (unpacked) => fs.writeFileSync(path.join(unpacked, 'pg_hba.conf'), 'local all all peer\n'));
  // pg_cron with its defaults, as production runs it: jobs connect to localhost (TCP).
  await backUpWith(url, ["shared_preload_libraries = 'pg_cron'"], cronBackup);
  await backUpWithoutToolRole(url, rolelessBackup);
}, 180_000);

afterAll(async () => {
  await runBin('postgres-cleanup', [], { env });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('restores a production backup that cannot start here as it is, and the tool uses the restored cluster', async () => {
  const restore = await runBin('database', ['restore', prodBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  expect(await psql(url, 'SELECT body FROM note')).toBe('from the backup');
  // The tool's own connections: a restart of the kept cluster, and a backup (replication).
  expect((await runBin('database', ['init', '--reuse'], { env })).code).toBe(0);
  const backup = await runBin('database', ['backup'], { env });
  expect(backup.code, backup.stderr).toBe(0);
});

it("overrides each setting that cannot work here or must not, one warning line each, and keeps production's others", async () => {
  const restore = await runBin('database', ['restore', prodBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  expect(await settings(url, ['archive_mode', 'huge_pages', 'listen_addresses', 'shared_buffers', 'shared_preload_libraries', 'ssl', 'work_mem', 'log_directory', 'lc_time', 'timezone'])).toBe(
    'archive_mode=off huge_pages=try listen_addresses= shared_buffers=128MB shared_preload_libraries=plpgsql ssl=off work_mem=64MB log_directory=log lc_time=C timezone=UTC',
  );
  // The tool's port and socket folder: the URL it printed reached the server.
  expect(await psql(url, 'SHOW port')).not.toBe('6543');
  const lines = warnings(restore.stderr);
  const expected = [
    /listens on '\*': the restored cluster takes socket connections only \(listen_addresses = ''\)/,
    /ssl = on: the restored cluster starts with ssl = off/,
    /archive_mode = on\): the restored cluster does not, so it never writes into the original's archive/,
    /preloads db_tool_no_such_library, not installed for this PostgreSQL: the restored cluster starts without it/,
    /shared_buffers = 1TB, more than a quarter of this machine's memory \([\d.]+[GT]B\): the restored cluster starts with 128MB/,
    /huge_pages = on, .*: the restored cluster starts with huge_pages = try/,
    /pg_hba.conf does not trust the tool's local connections: .*`local all all trust` and `local replication all trust` first/,
    /sets port = '6543' with ALTER SYSTEM: dropped, as the restored cluster gets its port, socket folder and log folder from the tool/,
    /sets unix_socket_directories = '"\/nonexistent\/db-tool-test\/sock"' with ALTER SYSTEM: dropped/,
    /logs into \/nonexistent\/db-tool-test\/logs: the restored cluster logs into its data folder's log\/ instead/,
    /lc_time = 'xx_YY.UTF-8', a locale this machine lacks: the restored cluster uses C/,
    /timezone = 'Mars\/Olympus', a time zone this machine lacks: the restored cluster uses UTC/,
  ];
  for (const pattern of expected) expect(lines.filter((line) => pattern.test(line)), restore.stderr).toHaveLength(1);
  expect(lines).toHaveLength(expected.length);
  // Production's rules stay after the tool's lines.
  const hba = fs.readFileSync(path.join(dir, 'focus', 'postgresql', 'data', 'pg_hba.conf'), 'utf8');
  expect(hba.indexOf('local all all trust')).toBeLessThan(hba.indexOf(PRODUCTION_HBA));
});

it("keeps a developer's backup's own settings that fit this machine, warning only about its pg_hba.conf", async () => {
  const restore = await runBin('database', ['restore', devBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  expect(await settings(url, ['huge_pages', 'shared_buffers', 'shared_preload_libraries', 'work_mem'])).toBe('huge_pages=try shared_buffers=256MB shared_preload_libraries=plpgsql work_mem=32MB');
  const lines = warnings(restore.stderr);
  expect(lines, restore.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/pg_hba.conf does not trust the tool's local connections/);
});

it('restores a backup without postgresql.conf and pg_hba.conf (kept in /etc by Debian), saying so', async () => {
  const restore = await runBin('database', ['restore', debianBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  expect(await psql(url, 'SELECT body FROM note')).toBe('from the backup');
  // The backup's ALTER SYSTEM settings still apply, with the same overrides.
  expect(await settings(url, ['listen_addresses', 'shared_buffers', 'work_mem'])).toBe('listen_addresses= shared_buffers=128MB work_mem=64MB');
  const lines = warnings(restore.stderr);
  expect(lines.filter((line) => /the backup has no postgresql.conf .*: the restored cluster starts with PostgreSQL's defaults/.test(line))).toHaveLength(1);
  expect(lines.filter((line) => /the backup has no pg_hba.conf .*: the restored cluster gets one with `local all all trust`/.test(line))).toHaveLength(1);
  expect((await runBin('database', ['init', '--reuse'], { env })).code).toBe(0);
});

it("points pg_cron's jobs at the restored cluster's socket, where production's went through TCP", async () => {
  const restore = await runBin('database', ['restore', cronBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  if (await pgCronInstalled()) {
    const socketDir = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('host');
    expect(await psql(url, 'SHOW cron.host')).toBe(socketDir);
    expect(warnings(restore.stderr).filter((line) => /pg_cron connects its jobs to localhost: the restored cluster's jobs connect through its own socket folder/.test(line))).toHaveLength(1);
  } else {
    expect(warnings(restore.stderr).filter((line) => /preloads pg_cron, not installed for this PostgreSQL/.test(line))).toHaveLength(1);
  }
});

it("gives a backup without the tool's role that role, as a superuser, so the tool can connect", async () => {
  const restore = await runBin('database', ['restore', rolelessBackup], { env });
  expect(restore.code, restore.stderr).toBe(0);
  const url = readyUrl(restore.stderr);
  expect(await psql(url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).toBe('t');
  // Production's own roles stay.
  expect(await psql(url, "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('prod_admin', 'former_admin')")).toBe('former_admin,prod_admin');
  expect(warnings(restore.stderr).filter((line) => /the backup's cluster has no role \S+, the one the tool connects as: the restored cluster gets it, as a superuser/.test(line))).toHaveLength(1);
  expect(await psql(url, 'SELECT body FROM note')).toBe('from the backup');
});

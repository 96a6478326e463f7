/** `database backup` and `database restore` against a real cluster (SPEC §5). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBin, runProgram } from './helpers/cli.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';

let dir: string;
let env: Record<string, string>;
let url: string;
let backupDir: string;

async function psql(sql: string): Promise<string> {
  const result = await runProgram('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql]);
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

function readyUrl(stderr: string): string {
  const match = /PostgreSQL ready: (\S+)/.exec(stderr);
  if (!match?.[1]) throw new Error(`no URL in: ${stderr}`);
  return match[1];
}

/** Every file of a folder with its content, to prove a backup was left untouched. */
function snapshot(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(folder).sort()) files[name] = fs.readFileSync(path.join(folder, name)).toString('base64');
  return files;
}

function focusEntries(): string[] {
  return fs.readdirSync(path.join(dir, 'focus')).sort();
}

/** Starts the cluster when a test before stopped it (or reuses the running one), and remembers its URL. */
async function ensureRunning(): Promise<void> {
  const init = await runBin('database', ['init', '--reuse'], { env });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  url = readyUrl(init.stderr);
}

/** A new backup holding exactly one note, 'before backup' (id 1): what the restore tests expect back. */
async function backUpOneNote(): Promise<void> {
  await psql("DROP TABLE IF EXISTS note, later; CREATE TABLE note (id serial PRIMARY KEY, body text); INSERT INTO note (body) VALUES ('before backup');");
  const result = await runBin('database', ['backup'], { env });
  if (result.code !== 0) throw new Error(`backup failed: ${result.stderr}`);
}

/** Any complete backup, for the tests that only need one to be there (each test runs alone too). */
async function ensureBackup(): Promise<void> {
  if (!fs.existsSync(path.join(backupDir, 'db-tool-backup.json'))) await backUpOneNote();
}

beforeAll(() => {
  dir = makeTempDir('db-tool-backup-');
  env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
  backupDir = path.join(dir, 'focus', 'postgresql-backup');
});

// Each test starts from a running cluster, whatever the test before left (a stopped one, on failure).
beforeEach(ensureRunning);

afterAll(async () => {
  await runBin('postgres-cleanup', [], { env });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('database backup', () => {
  it('writes a tar+gzip base backup with streamed WAL', async () => {
    fs.rmSync(backupDir, { recursive: true, force: true });
    const result = await runBin('database', ['backup'], { env });
    expect(result.code).toBe(0);
    expect(fs.readdirSync(backupDir).sort()).toEqual(['backup_manifest', 'base.tar.gz', 'db-tool-backup.json', 'pg_wal.tar.gz']);
    expect(fs.statSync(path.join(backupDir, 'base.tar.gz')).size).toBeGreaterThan(1000);
    const info = JSON.parse(fs.readFileSync(path.join(backupDir, 'db-tool-backup.json'), 'utf8')) as Record<string, string>;
    expect(info.database).toBe('testdb');
    expect(info.generator).toMatch(/^db-tool /);
    // The superuser it was taken as: a restore for that role need not make it.
    expect(info.role).toBe(IS_ROOT ? (process.env.PG_OS_USER ?? 'postgres') : os.userInfo().username);
    expect(focusEntries()).toEqual(['postgresql', 'postgresql-backup']);
  });

  it('replaces the previous backup with a complete new one', async () => {
    await ensureBackup();
    const infoFile = path.join(backupDir, 'db-tool-backup.json');
    const before = fs.readFileSync(infoFile, 'utf8');
    const result = await runBin('database', ['backup'], { env });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(infoFile, 'utf8')).not.toBe(before);
    expect(focusEntries()).toEqual(['postgresql', 'postgresql-backup']);
  });

  it('keeps the previous backup, byte for byte, when a new one fails', async () => {
    await ensureBackup();
    const before = snapshot(backupDir);
    // A real failure: the server accepts no replication connection.
    await psql('ALTER SYSTEM SET max_wal_senders = 0');
    url = readyUrl((await runBin('database', ['init', '--reuse'], { env })).stderr);
    try {
      const result = await runBin('database', ['backup'], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('pg_basebackup failed');
      expect(result.stderr).toContain('previous backup is kept');
      expect(snapshot(backupDir)).toEqual(before);
      expect(focusEntries()).toEqual(['postgresql', 'postgresql-backup']);
    } finally {
      await psql('ALTER SYSTEM RESET max_wal_senders');
      url = readyUrl((await runBin('database', ['init', '--reuse'], { env })).stderr);
    }
  });

  it('exits 3 when the cluster is not running, leaving the backup alone', async () => {
    await ensureBackup();
    const before = snapshot(backupDir);
    await runBin('postgres-cleanup', [], { env });
    try {
      const result = await runBin('database', ['backup'], { env });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/no running cluster/);
      expect(snapshot(backupDir)).toEqual(before);
    } finally {
      url = readyUrl((await runBin('database', ['init', '--reuse'], { env })).stderr);
    }
  });
});

describe('database restore', () => {
  it('puts the backed-up data back and starts the cluster', async () => {
    await backUpOneNote();
    await psql("INSERT INTO note (body) VALUES ('after backup'); CREATE TABLE later (x int);");
    const result = await runBin('database', ['restore'], { env });
    expect(result.code).toBe(0);
    // A backup of the tool's own cluster needs no setting of it overridden here.
    expect(result.stderr).not.toMatch(/^warn:/m);
    url = readyUrl(result.stderr);
    expect(await psql('SELECT string_agg(body, \',\' ORDER BY id) FROM note')).toBe('before backup');
    expect(await psql("SELECT to_regclass('later') IS NULL")).toBe('t');
    // A restored cluster is an ordinary one: it takes writes and its sequences go on.
    expect(await psql("INSERT INTO note (body) VALUES ('again') RETURNING id")).toBe('2');
    if (IS_ROOT) {
      const owner = fs.statSync(path.join(dir, 'focus', 'postgresql', 'data', 'PG_VERSION')).uid;
      expect(owner).not.toBe(0);
    }
  });

  it("never archives WAL, whatever the backup's ALTER SYSTEM settings say (archive_mode on)", async () => {
    // A backup of a cluster that archives, as production does.
    await psql("ALTER SYSTEM SET archive_mode = 'on'");
    await psql("ALTER SYSTEM SET archive_command = 'false'");
    try {
      await backUpOneNote();
    } finally {
      await psql('ALTER SYSTEM RESET archive_mode');
      await psql('ALTER SYSTEM RESET archive_command');
    }
    const result = await runBin('database', ['restore'], { env });
    expect(result.code, result.stderr).toBe(0);
    url = readyUrl(result.stderr);
    expect(await psql('SHOW archive_mode')).toBe('off');
    expect(await psql('SELECT count(*) FROM note')).toBe('1');
  });

  it('starts a stopped cluster from an archived backup (--archive)', async () => {
    await backUpOneNote();
    const archive = path.join(dir, 'backup.tar.gz');
    const tar = await runProgram('tar', ['-czf', archive, '-C', path.dirname(backupDir), path.basename(backupDir)]);
    expect(tar.code).toBe(0);
    await runBin('postgres-cleanup', [], { env });
    const result = await runBin('database', ['restore', '--archive', archive], { env });
    expect(result.code).toBe(0);
    url = readyUrl(result.stderr);
    expect(await psql('SELECT count(*) FROM note')).toBe('1');
    expect(fs.readdirSync(path.join(dir, 'focus', 'postgresql')).filter((entry) => entry.includes('restore-archive'))).toEqual([]);
  });

  it('puts the previous data back when the restored cluster does not start', async () => {
    await ensureBackup();
    await psql("INSERT INTO note (body) VALUES ('keep me')");
    // A backup whose configuration the server rejects.
    const broken = makeTempDir('db-tool-broken-backup-');
    try {
      const unpacked = path.join(broken, 'x');
      fs.mkdirSync(unpacked);
      expect((await runProgram('tar', ['-xzf', path.join(backupDir, 'base.tar.gz'), '-C', unpacked])).code).toBe(0);
      fs.appendFileSync(path.join(unpacked, 'postgresql.conf'), "\nshared_buffers = 'plenty'\n");
      const bad = path.join(broken, 'backup');
      fs.mkdirSync(bad);
      expect((await runProgram('tar', ['-czf', path.join(bad, 'base.tar.gz'), '-C', unpacked, '.'])).code).toBe(0);
      fs.copyFileSync(path.join(backupDir, 'pg_wal.tar.gz'), path.join(bad, 'pg_wal.tar.gz'));
      const result = await runBin('database', ['restore', bad], { env });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('previous data is back');
      expect(await psql("SELECT count(*) FROM note WHERE body = 'keep me'")).toBe('1');
      expect(fs.readdirSync(path.join(dir, 'focus', 'postgresql')).filter((entry) => entry.startsWith('.trash-restore-data'))).toEqual([]);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('exits 3 naming the path and `database backup` when there is no backup, touching nothing', async () => {
    await psql("CREATE TABLE IF NOT EXISTS untouched (x int); TRUNCATE untouched; INSERT INTO untouched VALUES (42)");
    const missing = path.join(dir, 'nothing-here');
    const result = await runBin('database', ['restore', missing], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain('database backup');
    expect(await psql('SELECT x FROM untouched')).toBe('42');
    const archive = await runBin('database', ['restore', '--archive'], { env });
    expect(archive.code).toBe(3);
  });
});

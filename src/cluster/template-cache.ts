/**
 * initdb is the slowest part of a fresh cluster. We run it once per PostgreSQL build
 * and server account, keep the result in ${XDG_CACHE_HOME:-~/.cache}/db-tool/, and
 * copy it for every later fresh cluster.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../base/config.js';
import type { RunDirSettings } from './run-dir.js';
import { quoteIdent } from '../pg/db.js';
import { ProgramFailedError } from '../base/errors.js';
import { makeDirs } from '../base/folders.js';
import type { Logger } from '../base/log.js';
import { serverProgram } from '../pg/pg-bin.js';
import { faultLogDirs, programFailure } from '../base/program-failure.js';
import { runProgram, type OsUser } from '../base/process.js';
import { takeSpare } from './spare-cluster.js';
import { serverFolderAnchor } from './server-files.js';
import { folderIdentity, makeDirsBelow } from '../base/safe-files.js';
import { removeBelow } from '../base/safe-remove.js';
import { clearDeadLeftovers } from './leftovers.js';
import { uniqueSuffix } from '../base/unique-name.js';

const CACHE_FORMAT = 'v2';

export function initdbArgs(dataDir: string, user: OsUser): string[] {
  return [
    '-D', dataDir, '-U', user.name, '--encoding=UTF8', '--no-locale',
    '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions',
    // 1 MB WAL segments instead of 16 MB: every fresh cluster copies less.
    '--wal-segsize=1',
  ];
}

/**
 * The server build is identified by its binaries' paths, sizes and mtimes: as good as
 * `postgres --version` for telling builds apart, without spawning anything.
 */
function cacheKey(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, user: OsUser, database: string): string {
  const binaries = (['initdb', 'postgres'] as const).map((name) => {
    const file = fs.realpathSync(serverProgram(config, name));
    const stat = fs.statSync(file);
    return `${file}:${stat.size}:${stat.mtimeMs}`;
  });
  const material = [CACHE_FORMAT, ...binaries, user.name, user.uid, user.gid, database].join('\n');
  return crypto.createHash('sha256').update(material).digest('hex').slice(0, 16);
}

async function copyTree(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, from: string, to: string): Promise<void> {
  // cp -a keeps owners and modes (root copies a tree owned by PG_OS_USER) and is much
  // faster than a JavaScript walk for a few thousand small files.
  const result = await runProgram('cp', ['-a', from, to], { env: config.env });
  if (result.code !== 0) {
    fs.rmSync(to, { recursive: true, force: true });
    throw programFailure(result, { what: 'cp', folder: path.dirname(to), logDirs: faultLogDirs(config) });
  }
}

/**
 * Copies the template into `dataDir` (new, in a folder of the server account): cp runs
 * in a root-owned folder we made and pinned as its working folder, so nothing the
 * server account renames or links in the meantime redirects what root writes.
 */
export async function copyTemplate(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, from: string, dataDir: string, anchor: string): Promise<void> {
  makeDirsBelow(anchor, dataDir, 0o700);
  const script = 'test "$(stat -c %d:%i .)" = "$1" || { echo "folder replaced while copying" >&2; exit 1; }; exec cp -a -- "$2"/. .';
  const result = await runProgram('/bin/sh', ['-c', script, 'sh', folderIdentity(anchor, dataDir), from], { env: config.env, cwd: dataDir });
  if (result.code !== 0) {
    removeBelow(anchor, dataDir);
    throw programFailure(result, { what: 'cp', folder: path.dirname(dataDir), logDirs: faultLogDirs(config) });
  }
}

async function runInitdb(config: Pick<Config, 'env' | 'path' | 'pgBinDir' | 'cacheDir' | 'tmpDir'>, dataDir: string, user: OsUser): Promise<void> {
  const result = await runProgram(serverProgram(config, 'initdb'), initdbArgs(dataDir, user), { env: config.env, user });
  if (result.code !== 0) {
    throw programFailure(result, { what: 'initdb', folder: path.dirname(dataDir), logDirs: faultLogDirs(config) });
  }
}

/** Creates the database in single-user mode: no server to start, no socket needed. */
async function createDatabaseOffline(config: Pick<Config, 'env' | 'path' | 'pgBinDir'>, dataDir: string, user: OsUser, database: string): Promise<void> {
  const result = await runProgram(
    serverProgram(config, 'postgres'),
    ['--single', '-D', dataDir, '-c', 'fsync=off', '-j', 'template1'],
    { env: config.env, user, input: `CREATE DATABASE ${quoteIdent(database)};\n` },
  );
  if (result.code !== 0 || /\b(ERROR|FATAL):/.test(result.stderr)) {
    throw new ProgramFailedError(`cannot create database ${database} in ${dataDir}`, result.stderr.trim());
  }
}

/** Where the template cache is and which server builds it. */
export type TemplateSettings = Pick<Config, 'env' | 'path' | 'pgBinDir' | 'cacheDir'>;

/** The cached template for this server build, account and database. */
export function templateFor(config: TemplateSettings, user: OsUser, database: string): { key: string; dataDir: string } {
  const key = cacheKey(config, user, database);
  return { key, dataDir: path.join(config.cacheDir, key, 'data') };
}

/**
 * Makes `dataDir` (which must not exist) a freshly initialised cluster that already
 * holds `database`: a spare prepared in `spareDir` by an earlier run (a rename), else
 * a copy of the template cache, else initdb (which fills the cache).
 */
export async function createDataDir(
  config: TemplateSettings & RunDirSettings,
  dataDir: string,
  user: OsUser,
  database: string,
  log: Logger,
  spareDir?: string,
): Promise<'spare' | 'cache' | 'initdb'> {
  const { key, dataDir: cached } = templateFor(config, user, database);
  if (spareDir && takeSpare(config, spareDir, key, dataDir)) return 'spare';
  if (fs.existsSync(path.join(cached, 'PG_VERSION'))) {
    await copyTemplate(config, cached, dataDir, serverFolderAnchor(dataDir));
    return 'cache';
  }
  await runInitdb(config, dataDir, user);
  await createDatabaseOffline(config, dataDir, user, database);
  await storeInCache(config, dataDir, path.join(config.cacheDir, key), log);
  return 'initdb';
}

async function storeInCache(config: RunDirSettings & Pick<Config, 'cacheDir'>, dataDir: string, entry: string, log: Logger): Promise<void> {
  // Copies a killed run left half-made (never renamed into place) go first.
  await clearDeadLeftovers(config, { tempDirs: [path.dirname(entry)], only: ['temp file'] });
  const staging = `${entry}.tmp-${uniqueSuffix()}`;
  try {
    makeDirs(staging, { mode: 0o700 });
    await copyTree(config, dataDir, path.join(staging, 'data'));
    fs.renameSync(staging, entry);
  } catch (error) {
    // A cache we cannot write (read-only home, a concurrent writer won) only costs speed.
    log.debug(`template cache not stored: ${(error as Error).message}`);
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

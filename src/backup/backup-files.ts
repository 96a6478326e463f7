/**
 * Physical backups made by `database backup` (pg_basebackup, tar format, gzip,
 * streamed WAL): where they live, how to recognise one, and how to turn one back into
 * a data folder. Shared by `database restore` and `database diff` (DB1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireLocalDir, type Config } from '../base/config.js';
import { MissingInputError, BadInputError, EnvironmentError } from '../base/errors.js';
import { isRoot } from '../cluster/os-user.js';
import { makeDirs } from '../base/folders.js';
import { chownBelow, folderIdentity, makeDirsBelow } from '../base/safe-files.js';
import { serverFolder } from '../cluster/server-files.js';
import { faultLogDirs, programFailure } from '../base/program-failure.js';
import { runProgram, type OsUser } from '../base/process.js';

export const BASE_ARCHIVE = 'base.tar.gz';
export const WAL_ARCHIVE = 'pg_wal.tar.gz';
/** A few facts about the backup, written next to the archives. */
export const BACKUP_INFO = 'db-tool-backup.json';

export interface BackupInfo {
  createdAt: string;
  sourceDataDir: string;
  database: string;
  serverVersion: string;
  generator: string;
  /** Every database of the cluster by name → OID (the folder base/<oid>). */
  databases?: Record<string, number>;
  /**
   * The role the tool took the backup as: that cluster's superuser. A copy restored for
   * the same role has it (restored-copy-role.ts need not look).
   */
  role?: string;
}

/**
 * The database of a backup that a copy of it is compared as: the one it was taken of,
 * when it says (production's database is often named otherwise than PG_DATABASE), else
 * `configured`.
 */
export function backedUpDatabase(info: BackupInfo | undefined, configured: string): string {
  return info?.database || configured;
}

/** Whether a copy of the backup of `info` may lack `role`, the one the tool will connect as. */
export function mayLackRole(info: BackupInfo | undefined, role: string): boolean {
  return info?.role !== role;
}

/** OID of template1, the template CREATE DATABASE copies: always kept. */
const TEMPLATE1_OID = 1;

/**
 * `base/<oid>` folders a throw-away copy that only serves `database` can leave out:
 * every database but that one and template1 (template0 and `postgres` are a third of
 * a small cluster's files, and creating files is the slow part of a restore). Nothing
 * is left out unless the backup says which folder holds which database.
 */
export function foldersToSkip(info: BackupInfo | undefined, database: string): string[] {
  const oids = info?.databases;
  const keep = oids?.[database];
  if (!oids || keep === undefined) return [];
  return Object.values(oids)
    .filter((oid) => oid !== keep && oid !== TEMPLATE1_OID && Number.isInteger(oid) && oid > 0)
    .sort((a, b) => a - b)
    .map((oid) => `base/${oid}`);
}

/** `$LOCAL_DIR/focus/postgresql-backup`. */
export function defaultBackupDir(config: Pick<Config, 'localDir' | 'cwd'>): string {
  return path.join(requireLocalDir(config), 'focus', 'postgresql-backup');
}

export function isBackupDir(dir: string): boolean {
  return fs.statSync(path.join(dir, BASE_ARCHIVE), { throwIfNoEntry: false })?.isFile() === true;
}

/** Exit 3 naming the path and how to make a backup, when `dir` holds none. */
export function assertBackupDir(dir: string): void {
  if (isBackupDir(dir)) return;
  const why = fs.existsSync(dir) ? `${dir} holds no ${BASE_ARCHIVE}` : `${dir} does not exist`;
  throw new MissingInputError(`no backup found: ${why} (make one with \`database backup\`)`);
}

async function chownTree(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, dir: string, user: OsUser): Promise<void> {
  // -h -P: a link in the tree (the server account may have put one there) is changed
  // itself, never followed.
  const result = await runProgram('chown', ['-R', '-h', '-P', `${user.uid}:${user.gid}`, dir], { env: config.env });
  if (result.code !== 0) throw programFailure(result, { what: 'chown', folder: dir, logDirs: faultLogDirs(config) });
}

/**
 * Makes a data folder and its pg_wal owned by the server account, mode 0700 (what
 * PostgreSQL wants); an existing empty one (a data folder in RAM) is fine. Both are
 * made and handed over from their anchor (server-files.ts), never through a link.
 */
function makeServerDataDirs(config: Pick<Config, 'euid'>, dataDir: string, user: OsUser): void {
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) throw new EnvironmentError(`${dataDir} already exists and is not empty`);
  const place = serverFolder(dataDir);
  const wal = path.join(place.path, 'pg_wal');
  makeDirs(place.anchor);
  makeDirsBelow(place.anchor, wal, 0o700);
  if (!isRoot(config)) return;
  chownBelow(place.anchor, wal, user.uid, user.gid);
  chownBelow(place.anchor, place.path, user.uid, user.gid);
}

/**
 * Extracts one gzipped tar into `dir` as the server account: the archive is opened by
 * us (as root it may be unreadable to that account) and fed on stdin, so every file
 * comes out owned by the account that will run the server.
 */
async function extractAs(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, archive: string, dir: string, user: OsUser, skip: readonly string[] = []): Promise<void> {
  const fd = fs.openSync(archive, 'r');
  try {
    const excludes = skip.length > 0 ? ['--anchored', ...skip.map((folder) => `--exclude=${folder}`)] : [];
    const result = await runProgram('tar', ['-xzf', '-', '-C', dir, ...excludes], { env: config.env, user, stdin: fd });
    if (result.code !== 0) throw programFailure(result, { what: `tar (extracting ${archive})`, folder: dir, logDirs: faultLogDirs(config) });
  } finally {
    fs.closeSync(fd);
  }
}

export interface ExtractOptions {
  /** Only this database is needed (diff's private copy): see `foldersToSkip`. */
  onlyDatabase?: string;
}

/**
 * Makes `dataDir` (which must not exist) a data folder from the backup in `backupDir`:
 * base.tar.gz, with pg_wal.tar.gz in its pg_wal/. Started, the server replays the WAL
 * from the backup_label and is then consistent.
 */
export async function extractBackup(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir' | 'euid'>, backupDir: string, dataDir: string, user: OsUser, options: ExtractOptions = {}): Promise<void> {
  assertBackupDir(backupDir);
  makeServerDataDirs(config, dataDir, user);
  const walDir = path.join(dataDir, 'pg_wal');
  const wal = path.join(backupDir, WAL_ARCHIVE);
  const skip = options.onlyDatabase === undefined ? [] : foldersToSkip(readBackupInfo(backupDir), options.onlyDatabase);
  await Promise.all([
    extractAs(config, path.join(backupDir, BASE_ARCHIVE), dataDir, user, skip),
    fs.existsSync(wal) ? extractAs(config, wal, walDir, user) : Promise.resolve(),
  ]);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new BadInputError(`${path.join(backupDir, BASE_ARCHIVE)} is not a PostgreSQL base backup (no PG_VERSION inside)`);
  }
  if (isRoot(config)) {
    // tar running as the server account owns what it made; this only fixes odd archives.
    const stray = fs.readdirSync(dataDir).some((entry) => fs.statSync(path.join(dataDir, entry)).uid !== user.uid);
    if (stray) await chownTree(config, dataDir, user);
  }
}

/** Finds the backup folder inside an extracted `.tar.gz` (at its top or one level down). */
export function findBackupIn(dir: string): string | undefined {
  if (isBackupDir(dir)) return dir;
  for (const entry of fs.readdirSync(dir).sort()) {
    const candidate = path.join(dir, entry);
    if (fs.statSync(candidate).isDirectory() && isBackupDir(candidate)) return candidate;
  }
  return undefined;
}

/** Extracts a `.tar.gz` of a backup folder into `into` (made here) and returns the backup folder in it. */
export async function unpackBackupArchive(config: Pick<Config, 'env' | 'cacheDir' | 'tmpDir'>, archive: string, into: string): Promise<string> {
  // `into` may be in the working dir, which the server account can write: tar runs
  // pinned in the folder we made (checked by dev:ino), never through a link put there.
  const anchor = path.dirname(into);
  makeDirs(anchor);
  makeDirsBelow(anchor, into, 0o700);
  const script = 'test "$(stat -c %d:%i .)" = "$1" || { echo "folder replaced while unpacking" >&2; exit 1; }; exec tar -xzf "$2" --no-same-owner';
  const result = await runProgram('/bin/sh', ['-c', script, 'sh', folderIdentity(anchor, into), path.resolve(archive)], { env: config.env, cwd: into });
  if (result.code !== 0) throw programFailure(result, { what: `tar (extracting ${archive})`, folder: into, logDirs: faultLogDirs(config) });
  const found = findBackupIn(into);
  if (!found) throw new BadInputError(`backup archive ${archive} holds no ${BASE_ARCHIVE} (at its top or one folder down)`);
  return found;
}

export function readBackupInfo(dir: string): BackupInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, BACKUP_INFO), 'utf8')) as BackupInfo;
  } catch {
    return undefined;
  }
}

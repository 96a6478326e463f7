/**
 * Restored copies of a backup kept ready for `database diff` (DB1), as postgres-init
 * keeps fresh clusters ready (spare-cluster.ts): after a diff, and after a backup that
 * replaced one a diff had used, the backup is extracted in the background into
 * `.spare-restored-<key>-1` and `-2` of the working dir's RAM folder of spares
 * (ram-spares.ts; of `$PG_WORKING_DIR` for a big backup or when RAM is short), so the
 * next diff only renames one into place instead of unpacking the archives while you wait.
 *
 * The key is the backup's identity: its folder, its archives' and info file's size,
 * mtime, ctime and inode, the database the copy serves (which folders it leaves out),
 * the server build and the server account. A new `database backup` makes new files, so
 * a new key: a copy of the old backup is never taken for it. Copies of other keys are
 * removed. A copy exists under its name only once complete (extracted in
 * `.spare-restored-tmp-<pid>-<key>`, then renamed): a killed preparation leaves only
 * that folder, which nothing takes and the next preparation removes. One preparation at
 * a time per working dir. The copy is never started before it is taken: the run writes
 * `restoredCopySettings` (no archiving, no TCP) into it before its first start, as for
 * a copy extracted on the spot.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../base/config.js';
import { removeInBackground, type OsUser } from '../base/process.js';
import { isRoot, serverUser, type ServerAccount } from '../cluster/os-user.js';
import { sameFileSystem } from '../base/folders.js';
import { SHM, tmpfsHasRoom } from '../cluster/ram-storage.js';
import { throwAwaySpareHomes } from '../cluster/ram-spares.js';
import { preparations, RESTORED_SPARE_PREFIX, RESTORED_TMP_PREFIX, roomForSpare, startPreparation, stopPreparation, type PreparationSteps } from '../cluster/spare-cluster.js';
import { templateFor, type TemplateSettings } from '../cluster/template-cache.js';
import { BACKUP_INFO, BASE_ARCHIVE, foldersToSkip, isBackupDir, readBackupInfo, WAL_ARCHIVE } from './backup-files.js';

const KEY_FORMAT = 'r1';
/** Copies kept ready: two, so that diffs one after the other find one while the other is refilled. */
const POOL = 2;
/** A restored cluster takes a few times its gzipped archives on disk. */
const EXPANSION = 4;

/**
 * A restored copy's part of its preparation (the pinned folder, the loop and the move
 * into place are preparationScript's): the backup extracted into `data`. As root, tar
 * runs as the server account (setpriv), reading the archive we opened: the files come
 * out the account's, and no link in the archive leads root anywhere.
 */
const RESTORED_COPY: PreparationSteps = {
  params: ['base', 'wal', 'uid', 'gid', 'skip'],
  setup: ['as_server() { if [ -n "$uid" ]; then setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; else "$@"; fi; }', 'set -f'],
  copy: [
    '    mkdir -m 700 data && mkdir -m 700 data/pg_wal || break 2',
    '    if [ -n "$uid" ]; then chown "$uid:$gid" data data/pg_wal || break 2; fi',
    '    as_server tar -xzf - -C data $skip < "$base" || break 2',
    '    if [ -n "$wal" ]; then as_server tar -xzf - -C data/pg_wal < "$wal" || break 2; fi',
    '    [ -f data/PG_VERSION ] || break 2',
  ],
};

/** size:mtime:ctime:inode of a file of the backup, or `-` when it is missing. */
function fileIdentity(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}` : '-';
}

/** What taking and preparing a restored copy read of the configuration. */
export type RestoredSpareSettings = TemplateSettings & ServerAccount & Pick<Config, 'workingDir' | 'euid'>;

/** The key of a restored copy of `backupDir` serving `database` (see above). */
export function restoredSpareKey(config: TemplateSettings, backupDir: string, user: OsUser, database: string): string {
  const folder = fs.realpathSync(backupDir);
  const files = [BASE_ARCHIVE, WAL_ARCHIVE, BACKUP_INFO].map((name) => `${name}=${fileIdentity(path.join(folder, name))}`);
  const material = [KEY_FORMAT, folder, ...files, database, templateFor(config, user, database).key, user.uid, user.gid].join('\n');
  return crypto.createHash('sha256').update(material).digest('hex').slice(0, 16);
}

function spareNames(key: string): string[] {
  return Array.from({ length: POOL }, (_, index) => `${RESTORED_SPARE_PREFIX}${key}-${index + 1}`);
}

/** True for a complete restored copy's name (not a preparation's). */
function isRestoredSpare(entry: string): boolean {
  return entry.startsWith(RESTORED_SPARE_PREFIX) && !entry.startsWith(RESTORED_TMP_PREFIX);
}

/** Copies of a backup are kept in RAM only while this small (all copies): they hold that RAM between diffs. */
const MAX_IN_RAM = 512 * 1024 * 1024;

/** The folders that may keep the copies (ram-spares.ts): the working dir's RAM folder of spares (made when `create`), and the working dir. */
function spareHomes(config: RestoredSpareSettings, create: boolean): string[] {
  return throwAwaySpareHomes(config.workingDir, serverUser(config), { create, asRoot: isRoot(config) });
}

/** Removes the complete copies in `dir` that are not `key`'s. */
function dropOtherSpares(config: Pick<Config, 'env'>, dir: string, key: string): void {
  const ours = spareNames(key);
  for (const entry of fs.readdirSync(dir)) {
    if (isRestoredSpare(entry) && !ours.includes(entry)) removeInBackground(config, path.join(dir, entry));
  }
}

/** True when `dir` holds a data folder of the server account, no link, ready to start. */
function isUsableCopy(config: Pick<Config, 'euid'>, dir: string, user: OsUser): boolean {
  const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory() || (isRoot(config) && stat.uid !== user.uid)) return false;
  return fs.lstatSync(path.join(dir, 'PG_VERSION'), { throwIfNoEntry: false })?.isFile() === true;
}

/**
 * Moves a complete restored copy of `backupDir` into place as the cluster's `dataDir`
 * (which must not exist) and returns true; false when none is ready. A copy on the
 * disk of `dataDir` is renamed to it; one in RAM into the RAM folder `linkRam` links
 * `dataDir` to. A copy still being extracted is not waited for. What is renamed in but
 * not a usable data folder (something the server account put there) is moved aside,
 * to `rejected-copy` beside it, for the run's cleanup, and false is returned.
 */
export function takeRestoredSpare(config: RestoredSpareSettings, backupDir: string, database: string, dataDir: string, linkRam: () => string | undefined): boolean {
  const user = serverUser(config);
  const key = restoredSpareKey(config, backupDir, user, database);
  for (const home of spareHomes(config, false)) {
    dropOtherSpares(config, home, key);
    const ready = spareNames(key).map((name) => path.join(home, name)).filter((copy) => fs.existsSync(copy));
    if (ready.length === 0) continue;
    const target = sameFileSystem(home, path.dirname(dataDir)) ? dataDir : linkRam();
    if (!target) continue;
    for (const copy of ready) {
      try {
        fs.renameSync(copy, target);
      } catch {
        continue; // another run took it first, or another file system after all
      }
      if (isUsableCopy(config, target, user)) return true;
      fs.renameSync(target, path.join(path.dirname(target), 'rejected-copy'));
      return false;
    }
  }
  return false;
}

/** Bytes the copies of `backupDir` may take. */
function roomNeeded(backupDir: string): number {
  const size = (name: string): number => fs.statSync(path.join(backupDir, name), { throwIfNoEntry: false })?.size ?? 0;
  return POOL * EXPANSION * (size(BASE_ARCHIVE) + size(WAL_ARCHIVE));
}

export interface PrepareRestoredOptions {
  /** Prepare only when the working dir already holds copies of another backup (`database backup` replacing one a diff used). */
  onlyReplacing?: boolean;
}

/**
 * Starts filling the restored copies of `backupDir` in the background, at the lowest
 * priority, unless they are there or on their way. `runsDir` is where the runs that
 * take them live: the copies go in RAM when they are small and there is room
 * (ram-storage.ts), else on `runsDir`'s disk.
 */
export function prepareRestoredSpare(config: RestoredSpareSettings, backupDir: string, database: string, runsDir: string, options: PrepareRestoredOptions = {}): void {
  if (!isBackupDir(backupDir)) return;
  const inRam = tmpfsHasRoom() && roomNeeded(backupDir) <= MAX_IN_RAM;
  const home = spareHomes(config, inRam && !options.onlyReplacing).find((dir) => sameFileSystem(dir, inRam ? SHM : runsDir));
  if (!home) return;
  const user = serverUser(config);
  const key = restoredSpareKey(config, backupDir, user, database);
  const entries = fs.readdirSync(home);
  if (options.onlyReplacing && !entries.some((entry) => isRestoredSpare(entry) || entry.startsWith(RESTORED_TMP_PREFIX))) return;
  dropOtherSpares(config, home, key);
  const spares = spareNames(key).map((name) => path.join(home, name));
  if (spares.every((spare) => fs.existsSync(spare))) return;
  for (const preparation of preparations(home, 'restored')) {
    if (preparation.key === key && preparation.running) return;
    // Another backup's (replaced meanwhile), or killed half-way: it never completes.
    if (preparation.running) stopPreparation(preparation);
    else removeInBackground(config, preparation.folder);
  }
  if (!roomForSpare(home, roomNeeded(backupDir))) return;
  const wal = path.join(backupDir, WAL_ARCHIVE);
  const skip = foldersToSkip(readBackupInfo(backupDir), database);
  const skipArgs = skip.length > 0 ? ['--anchored', ...skip.map((folder) => `--exclude=${folder}`)].join(' ') : '';
  const owner = isRoot(config) ? [String(user.uid), String(user.gid)] : ['', ''];
  startPreparation(config, RESTORED_TMP_PREFIX, home, key, RESTORED_COPY, [path.join(backupDir, BASE_ARCHIVE), fs.existsSync(wal) ? wal : '', ...owner, skipArgs], spares);
}

/**
 * Migrations on disk (SPEC §7): every folder `YYYYMMDDHHMMSS-name/` of the migration
 * folder, in name order, with its up and down files in one of two layouts:
 *
 *   flat:    up.sql + down.sql
 *   nested:  up/entrypoint.sql + down/entrypoint.sql (which may `\ir` their siblings)
 *
 * The identity of an applied migration is the sha256 of its up file (`up.sql` or
 * `up/entrypoint.sql`); files it includes are not hashed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AmbiguousError, BadInputError, EnvironmentError } from '../base/errors.js';
import { isPathError, pathErrorLine } from '../base/fs-faults.js';
import { shown } from '../base/text.js';

/** `hectic.migration_name`: 14 digits (UTC timestamp) and a dash. */
export const MIGRATION_NAME = /^[0-9]{14}-/;
/** Control characters would break psql meta-commands and our one-line listings. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

export type MigrationLayout = 'flat' | 'nested';

/** A migration folder as found, before deciding whether it can run. */
export interface MigrationFolder {
  name: string;
  dir: string;
  /** Absolute path of the up file, or null when missing. */
  upFile: string | null;
  /** Absolute path of the down file, or null when missing. */
  downFile: string | null;
  /** How the missing files would be called (`up.sql` or `up/entrypoint.sql`…), for messages. */
  upLabel: string;
  downLabel: string;
}

/** A migration that can run: it has an up file, whose sha256 is known. */
export interface DiskMigration {
  name: string;
  dir: string;
  upFile: string;
  downFile: string | null;
  downLabel: string;
  /** sha256 of the up file, 64 lowercase hex digits. */
  hash: string;
  /** The up file's bytes, as hashed (what runs is what is recorded). */
  upSql: Buffer;
}

interface SideFiles {
  file: string | null;
  label: string;
}

/** The entry called `name`, if the folder has one. */
function entryNamed(entries: readonly fs.Dirent[], name: string): fs.Dirent | undefined {
  for (const entry of entries) if (entry.name === name) return entry;
  return undefined;
}

/**
 * Finds one side (`up` or `down`) of a migration from the folder's entries (one
 * readdir per folder keeps 200 migrations cheap); both layouts at once is ambiguous.
 * Paths are joined as text: `dir` is absolute and normalised already, and path.join's
 * normalising was a third of the cost of listing 200 folders.
 */
function findSide(dir: string, name: string, entries: readonly fs.Dirent[], side: 'up' | 'down'): SideFiles {
  const flat = entryNamed(entries, `${side}.sql`);
  const nestedDir = entryNamed(entries, side);
  if (flat && nestedDir) {
    throw new AmbiguousError(
      `migration ${name} has both ${side}.sql and ${side}/: keep one layout (${side}.sql, or ${side}/entrypoint.sql with its includes)`,
    );
  }
  if (nestedDir) {
    const folder = `${dir}${path.sep}${side}`;
    if (!isKind(nestedDir, folder, 'directory')) throw new BadInputError(`migration ${name}: ${side} is not a folder (expected ${side}/entrypoint.sql)`);
    const entrypoint = `${folder}${path.sep}entrypoint.sql`;
    return { file: fs.statSync(entrypoint, { throwIfNoEntry: false })?.isFile() ? entrypoint : null, label: `${side}/entrypoint.sql` };
  }
  if (!flat) return { file: null, label: `${side}.sql` };
  const file = `${dir}${path.sep}${side}.sql`;
  if (!isKind(flat, file, 'file')) throw new BadInputError(`migration ${name}: ${side}.sql is not a file`);
  return { file, label: `${side}.sql` };
}

/** Dirent type, following a symbolic link to what it points at. */
function isKind(entry: fs.Dirent, full: string, kind: 'file' | 'directory'): boolean {
  if (entry.isSymbolicLink()) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(full, { throwIfNoEntry: false });
    } catch (error) {
      // A link that loops (ELOOP) or passes through a file (ENOTDIR): the user's folder is at fault.
      if (isPathError(error)) throw new BadInputError(pathErrorLine(error, 'malformed migration folder'));
      throw error;
    }
    return kind === 'file' ? Boolean(stat?.isFile()) : Boolean(stat?.isDirectory());
  }
  return kind === 'file' ? entry.isFile() : entry.isDirectory();
}

/** Checks a folder name; a bad one gets one line naming it and the expected form. */
export function checkMigrationName(name: string): void {
  if (!MIGRATION_NAME.test(name)) {
    throw new BadInputError(`malformed migration folder name '${shown(name)}': expected YYYYMMDDHHMMSS-name (14 digits, a dash, a name)`);
  }
  if (CONTROL_CHARACTER.test(name)) {
    throw new BadInputError(`malformed migration folder name '${shown(name)}': control characters are not allowed`);
  }
}

/**
 * Lists the migration folders of `migrationDir` in name order. Hidden entries and plain
 * files are skipped, except a file that looks like a migration (`20240101000000-x.sql`),
 * which is a mistake worth one clear line. Throws BadInputError (exit 1) for a missing folder
 * or a malformed name, AmbiguousError (exit 2) for a side present in both layouts.
 */
export function readMigrationFolders(migrationDir: string): MigrationFolder[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(migrationDir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BadInputError(`migration folder not found: ${shown(migrationDir)} (set MIGRATION_DIR or pass -d/--migration-dir)`);
    if (code === 'ENOTDIR') throw new BadInputError(`migration folder is not a folder: ${shown(migrationDir)}`);
    if (isPathError(error)) throw new BadInputError(pathErrorLine(error, 'migration folder'));
    throw new EnvironmentError(`cannot read migration folder ${shown(migrationDir)}: ${(error as Error).message}`);
  }
  const folders: MigrationFolder[] = [];
  const root = path.resolve(migrationDir);
  const prefix = root.endsWith(path.sep) ? root : `${root}${path.sep}`;
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const dir = `${prefix}${entry.name}`;
    if (!isKind(entry, dir, 'directory')) {
      if (MIGRATION_NAME.test(entry.name)) {
        throw new BadInputError(`malformed migration ${shown(entry.name)}: a migration is a folder holding up.sql and down.sql, not a file`);
      }
      continue;
    }
    checkMigrationName(entry.name);
    const inside = fs.readdirSync(dir, { withFileTypes: true });
    const up = findSide(dir, entry.name, inside, 'up');
    const down = findSide(dir, entry.name, inside, 'down');
    // A side with no trace at all is named after the other side's layout.
    if (!up.file && !entryNamed(inside, 'up')) up.label = down.label.replace('down', 'up');
    if (!down.file && !entryNamed(inside, 'down')) down.label = up.label.replace('up', 'down');
    folders.push({ name: entry.name, dir, upFile: up.file, downFile: down.file, upLabel: up.label, downLabel: down.label });
  }
  // Code-point order, the same as PostgreSQL's "C" collation and the shell's LC_ALL=C sort.
  return folders.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** sha256 of bytes as 64 lowercase hex digits. */
function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The migrations that can run: every folder must have its up file (a folder without one
 * is malformed: exit 1, before anything happens). Reads and hashes the up files.
 */
export function readMigrations(migrationDir: string): DiskMigration[] {
  return readMigrationFolders(migrationDir).map((folder) => {
    if (!folder.upFile) {
      throw new BadInputError(`malformed migration ${folder.name}: missing ${folder.upLabel} (in ${folder.dir})`);
    }
    const upSql = fs.readFileSync(folder.upFile);
    return {
      name: folder.name,
      dir: folder.dir,
      upFile: folder.upFile,
      downFile: folder.downFile,
      downLabel: folder.downLabel,
      hash: sha256(upSql),
      upSql,
    };
  });
}

/**
 * Which migrations `migrator lint [MIGRATION…]` lints (SPEC §17), and what lint knows
 * of the schema before them.
 *
 * - Without names: the pending migrations of the database. Lint then reads the current
 *   column types and enums from it, so `ALTER COLUMN … TYPE` is judged from the real
 *   old type (varchar(20) → text rewrites nothing; int4 → int8 rewrites).
 * - With names (a folder name, its 14-digit timestamp, or a path to a migration folder):
 *   those, no database needed; the migrations before them on disk are read for
 *   knowledge only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../../base/errors.js';
import { withClient } from '../../pg/db.js';
import { readKnowledge } from './schema-knowledge.js';
import { lintMigrations, type LintReport, type LintSource } from './lint.js';
import { readMigrations, type DiskMigration } from '../migration-files.js';
import { readAppliedMigrations } from '../migration-state.js';
import { migrationStatuses } from '../migration-status.js';

export interface LintSelection {
  migrationDir: () => string;
  /** The database URL (asked only when no migration is named). */
  url: () => string;
  /** Migrations named on the command line. */
  names: readonly string[];
}

function source(migration: Pick<DiskMigration, 'name' | 'upFile'>): LintSource {
  return { name: migration.name, upFile: migration.upFile };
}

/** A migration folder given as a path: its up file. */
function folderSource(dir: string): LintSource | undefined {
  for (const file of ['up.sql', path.join('up', 'entrypoint.sql')]) {
    const upFile = path.join(dir, file);
    if (fs.statSync(upFile, { throwIfNoEntry: false })?.isFile()) return { name: path.basename(dir), upFile };
  }
  return undefined;
}

function namedSources(migrationDir: () => string, names: readonly string[], cwd: string): { sources: LintSource[]; history: LintSource[] } {
  let disk: DiskMigration[] | undefined;
  const onDisk = (): DiskMigration[] => (disk ??= readMigrations(migrationDir()));
  const sources = names.map((name) => {
    const asPath = path.resolve(cwd, name);
    if (fs.statSync(asPath, { throwIfNoEntry: false })?.isDirectory()) {
      const found = folderSource(asPath);
      if (!found) throw new BadInputError(`${name}: not a migration folder (no up.sql or up/entrypoint.sql)`);
      return found;
    }
    const matches = onDisk().filter((migration) => migration.name === name || migration.name.startsWith(`${name}-`));
    if (matches.length !== 1 || !matches[0]) throw new BadInputError(matches.length === 0 ? `unknown migration '${name}' (not a folder, nor a migration of ${migrationDir()})` : `'${name}' names ${matches.length} migrations`);
    return source(matches[0]);
  });
  // Knowledge from the migrations before the first named one, when they are in the folder.
  const first = sources.map((item) => item.name).sort()[0];
  let history: LintSource[] = [];
  try {
    history = onDisk().filter((migration) => first !== undefined && migration.name < first).map(source);
  } catch {
    history = [];
  }
  return { sources, history };
}

/** Lints the named migrations (paths relative to `cwd`), or the pending ones. */
export async function lintSelectedMigrations(options: LintSelection, cwd: string): Promise<LintReport> {
  if (options.names.length > 0) {
    const { sources, history } = namedSources(options.migrationDir, options.names, cwd);
    return lintMigrations(sources, { history });
  }
  const disk = readMigrations(options.migrationDir());
  const { pending, knowledge } = await withClient(options.url(), async (client) => {
    const statuses = migrationStatuses(disk, await readAppliedMigrations(client));
    const names = new Set(statuses.filter((status) => status.state === 'pending').map((status) => status.name));
    return { pending: disk.filter((migration) => names.has(migration.name)), knowledge: await readKnowledge(client) };
  });
  return lintMigrations(pending.map(source), { knowledge });
}

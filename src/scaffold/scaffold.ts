/**
 * `database scaffold` (SPEC §5): a new project's layout under LOCAL_DIR, never
 * overwriting anything. The example files (sources, first migration, tests, test data)
 * describe one table together, so they are written only alongside a new entrypoint;
 * an existing entrypoint is the user's schema, and examples about another table would
 * make check, test and diff fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireLocalDir, requirePath, type Config } from '../base/config.js';
import { EnvironmentError } from '../base/errors.js';
import { createMigration } from '../migrations/migration-create.js';
import { MIGRATION_NAME as MIGRATION_FOLDER } from '../migrations/migration-files.js';
import {
  ENTRYPOINT_SQL,
  ENV_EXAMPLE,
  GITIGNORE_ENTRIES,
  MIGRATION_DOWN_SQL,
  MIGRATION_NAME,
  MIGRATION_UP_SQL,
  TEST_DATA_SQL,
  TEST_SQL,
} from './scaffold-templates.js';

export interface ScaffoldResult {
  localDir: string;
  /** Files written (absolute paths), in the order written. */
  created: string[];
  /** Files not written, with the reason (one that exists is left as it is). */
  skipped: Array<{ path: string; reason: string }>;
  /** Lines appended to .gitignore. */
  ignored: string[];
}

/** Writes `text` to `file` unless something is there; true when written. */
function writeNew(file: string, text: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new EnvironmentError(`cannot write ${file}: ${(error as Error).message}`);
  }
}

function hasMigrations(migrationDir: string): boolean {
  try {
    return fs.readdirSync(migrationDir).some((name) => MIGRATION_FOLDER.test(name));
  } catch {
    return false;
  }
}

/** The .gitignore lines that are missing (a line matches with or without its slashes). */
function missingIgnores(file: string): Array<(typeof GITIGNORE_ENTRIES)[number]> {
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((line) => line.trim().replace(/^\/|\/$/g, ''));
  } catch {
    // no .gitignore yet
  }
  return GITIGNORE_ENTRIES.filter((entry) => !lines.includes(entry.lines[0].replace(/\/$/, '')));
}

function ensureIgnores(file: string): string[] {
  const missing = missingIgnores(file);
  if (missing.length === 0) return [];
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const separator = before === '' || before.endsWith('\n') ? '' : '\n';
  fs.appendFileSync(file, separator + missing.map((entry) => `${entry.why}\n${entry.lines.join('\n')}\n`).join(''));
  return missing.flatMap((entry) => entry.lines);
}

/** The settings that place a project's files: its root and the folders below it, and the entrypoint's name. */
export type ProjectLayoutSettings = Pick<Config, 'cwd' | 'localDir' | 'databaseSource' | 'migrationDir' | 'databaseDir' | 'profileDir' | 'hydrateEntrypoint'>;

/** Writes a new project's layout (what is there already is left as it is). */
export function scaffoldProject(config: ProjectLayoutSettings, now: Date = new Date()): ScaffoldResult {
  const localDir = requireLocalDir(config);
  const source = requirePath(config.databaseSource, 'DATABASE_SOURCE');
  const migrationDir = requirePath(config.migrationDir, 'MIGRATION_DIR');
  const databaseDir = requirePath(config.databaseDir, 'DATABASE_DIR');
  const profileDir = requirePath(config.profileDir, 'PROFILE_DIR');
  const result: ScaffoldResult = { localDir, created: [], skipped: [], ignored: [] };
  const write = (file: string, text: string): void => {
    if (writeNew(file, text)) result.created.push(file);
    else result.skipped.push({ path: file, reason: 'exists' });
  };

  const entrypoint = path.join(source, config.hydrateEntrypoint);
  write(entrypoint, ENTRYPOINT_SQL);
  const examples = result.created.includes(entrypoint);
  const examplesSkipped = 'not written: the examples are about app.todo, and the entrypoint was there already';
  const firstMigration = path.join(migrationDir, `<timestamp>-${MIGRATION_NAME}`);
  if (hasMigrations(migrationDir)) {
    if (examples) result.skipped.push({ path: firstMigration, reason: 'not written: the migration folder has migrations' });
  } else if (!examples) {
    result.skipped.push({ path: firstMigration, reason: examplesSkipped });
  } else {
    const migration = createMigration(migrationDir, { name: MIGRATION_NAME, now, dryRun: true });
    fs.mkdirSync(migration.dir, { recursive: true });
    write(migration.upFile, MIGRATION_UP_SQL);
    write(migration.downFile, MIGRATION_DOWN_SQL);
  }
  for (const [file, text] of [
    [path.join(databaseDir, 'test', 'test.sql'), TEST_SQL],
    [path.join(profileDir, 'test-data.sql'), TEST_DATA_SQL],
  ] as const) {
    if (examples) write(file, text);
    else if (!fs.existsSync(file)) result.skipped.push({ path: file, reason: examplesSkipped });
  }
  write(path.join(localDir, '.env.example'), ENV_EXAMPLE);
  result.ignored = ensureIgnores(path.join(localDir, '.gitignore'));
  return result;
}

/**
 * `migrator create`: a new migration folder `YYYYMMDDHHMMSS-name/` (UTC) holding
 * `up.sql` and `down.sql` templates. The timestamp always sorts after every existing
 * migration (two creates within one second still come out in creation order).
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError, EnvironmentError } from '../base/errors.js';
import { MIGRATION_NAME } from './migration-files.js';
import { makeDirs } from '../base/folders.js';

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';
/** What a name may contain: it becomes part of a folder name and of hectic.migration. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A random pronounceable word of three consonant-vowel syllables, e.g. `bakuto`. */
export function pronounceableName(random: (max: number) => number = randomInt): string {
  let word = '';
  for (let syllable = 0; syllable < 3; syllable += 1) {
    word += CONSONANTS[random(CONSONANTS.length)] ?? 'b';
    word += VOWELS[random(VOWELS.length)] ?? 'a';
  }
  return word;
}

/** `YYYYMMDDHHMMSS` of a date, in UTC. */
export function formatTimestamp(date: Date): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds())
  );
}

function parseTimestamp(stamp: string): Date {
  const [y, mo, d, h, mi, s] = [stamp.slice(0, 4), stamp.slice(4, 6), stamp.slice(6, 8), stamp.slice(8, 10), stamp.slice(10, 12), stamp.slice(12, 14)].map(Number);
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
}

/** Spaces become dashes; anything that cannot be part of a folder name is refused (exit 1). */
export function normaliseMigrationName(name: string): string {
  const normalised = name.trim().replace(/\s+/g, '-');
  if (!NAME_PATTERN.test(normalised)) {
    throw new BadInputError(`invalid migration name '${name}': use letters, digits, '-', '_' and '.', starting with a letter or digit`);
  }
  return normalised;
}

/** The timestamp for a new migration: now, or one second after the newest existing one. */
export function nextTimestamp(existingNames: readonly string[], now: Date): string {
  const stamps = existingNames.filter((name) => MIGRATION_NAME.test(name)).map((name) => name.slice(0, 14)).sort();
  const newest = stamps[stamps.length - 1];
  const candidate = formatTimestamp(now);
  if (newest === undefined || candidate > newest) return candidate;
  const after = parseTimestamp(newest);
  return formatTimestamp(new Date(after.getTime() + 1000));
}

function upTemplate(name: string): string {
  return `-- Migration ${name}: up.
--
-- Runs inside a transaction together with its row in hectic.migration: do not add
-- BEGIN/COMMIT. hectic.migration_mode is 'on', so hectic.immutable tables may be changed.
-- New tables must inherit hectic.created_at, e.g.
--   CREATE TABLE public.example (id bigint PRIMARY KEY) INHERITS (hectic.created_at);

`;
}

function downTemplate(name: string): string {
  return `-- Migration ${name}: down. Reverts up.sql (runs in a transaction, like up.sql).

`;
}

export interface CreatedMigration {
  name: string;
  dir: string;
  upFile: string;
  downFile: string;
}

export interface CreateMigrationOptions {
  /** Name after the timestamp; default a random pronounceable word. */
  name?: string | undefined;
  now?: Date;
  /** Only compute the folder; write nothing. */
  dryRun?: boolean;
}

/** Creates the folder (and the migration folder itself when missing). */
export function createMigration(migrationDir: string, options: CreateMigrationOptions = {}): CreatedMigration {
  const name = options.name === undefined ? pronounceableName() : normaliseMigrationName(options.name);
  let existing: string[] = [];
  try {
    existing = fs.readdirSync(migrationDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new BadInputError(`migration folder is not a folder: ${migrationDir}`);
  }
  const fullName = `${nextTimestamp(existing, options.now ?? new Date())}-${name}`;
  const dir = path.join(migrationDir, fullName);
  const created: CreatedMigration = { name: fullName, dir, upFile: path.join(dir, 'up.sql'), downFile: path.join(dir, 'down.sql') };
  if (options.dryRun) return created;
  let madeDir = false;
  try {
    makeDirs(migrationDir);
    fs.mkdirSync(dir);
    madeDir = true;
    fs.writeFileSync(created.upFile, upTemplate(fullName));
    fs.writeFileSync(created.downFile, downTemplate(fullName));
  } catch (error) {
    // Remove only what we made: nothing half-written stays behind.
    if (madeDir) fs.rmSync(dir, { recursive: true, force: true });
    throw new EnvironmentError(`cannot create migration ${dir}: ${(error as Error).message}`);
  }
  return created;
}

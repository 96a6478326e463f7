/**
 * The rehearsal (SPEC §8): `migrate up all` on DB1 runs the pending migrations against
 * production's data, so diff can tell what each one would do there — how long it took,
 * which relations it locked and in which mode (pg_locks of its own backend, read inside
 * its transaction right before COMMIT, when every lock it took is still held), and which
 * tables it rewrote (pg_class.relfilenode changed) with their size afterwards.
 *
 * The migration runner calls our psql lines inside each step's transaction; they `\copy`
 * the readings into CSV files of the run's folder, read back here after the run.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationStep } from '../migrations/migration-plan.js';
import type { StepHooks } from '../migrations/migration-session.js';

export interface RelationLock {
  relation: string;
  /** pg_locks mode: AccessExclusiveLock, ShareLock, RowExclusiveLock… */
  mode: string;
  /** The relation existed before the migration (a lock on a new one blocks nobody). */
  existing: boolean;
}

export interface RewrittenTable {
  relation: string;
  bytes: number;
}

export interface RehearsedMigration {
  name: string;
  durationMs: number;
  locks: RelationLock[];
  rewritten: RewrittenTable[];
  /** Why this migration would hurt production (empty when it would not). */
  flags: string[];
}

export interface RehearsalThresholds {
  /** An ACCESS EXCLUSIVE lock on an existing relation held this long or longer is flagged. */
  longLockMs: number;
  /** A rewrite of a table this large or larger is flagged. */
  largeTableBytes: number;
}

export const DEFAULT_THRESHOLDS: RehearsalThresholds = { longLockMs: 1000, largeTableBytes: 100 * 1024 * 1024 };

const USER_RELATIONS = "c.relkind IN ('r', 'p', 'm', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";

/** Relations and their files (no size here: pg_table_size would lock every table before the migration). */
const START = `SELECT 'time', extract(epoch FROM clock_timestamp())::text, '', '' UNION ALL SELECT 'rel', c.oid::text, c.relfilenode::text, n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_RELATIONS}`;
/** Locks first, while they are only the migration's own. */
const LOCKS = `SELECT 'time', extract(epoch FROM clock_timestamp())::text, '', '' UNION ALL SELECT 'lock', c.oid::text, l.mode, n.nspname || '.' || c.relname FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND ${USER_RELATIONS}`;
const FILES = `SELECT 'rel', c.oid::text, c.relfilenode::text, n.nspname || '.' || c.relname || ' ' || pg_catalog.pg_table_size(c.oid)::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') AND ${USER_RELATIONS}`;

function fileOf(dir: string, index: number, part: 'start' | 'locks' | 'files'): string {
  return path.join(dir, `${String(index + 1).padStart(4, '0')}-${part}.csv`);
}

function copyLine(query: string, file: string): string {
  return `\\copy (${query}) TO '${file.replace(/\\/g, '\\\\').replace(/'/g, "''")}' WITH (FORMAT csv)`;
}

/** The runner hooks that record the readings of each step into `dir`. */
export function rehearsalHooks(dir: string): StepHooks {
  return {
    afterBegin: (index) => copyLine(START, fileOf(dir, index, 'start')),
    beforeCommit: (index) => [copyLine(LOCKS, fileOf(dir, index, 'locks')), copyLine(FILES, fileOf(dir, index, 'files'))].join('\n'),
  };
}

/** RFC 4180 rows as psql's \copy … csv writes them. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

function readRows(file: string): string[][] {
  try {
    return parseCsv(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** One step's readings, as read from its files. */
export interface StepReadings {
  startSeconds: number;
  endSeconds: number;
  /** oid → relfilenode before the migration. */
  filesBefore: Map<string, string>;
  locks: Array<{ oid: string; mode: string; relation: string }>;
  /** oid → relfilenode, name and size after it. */
  filesAfter: Map<string, { file: string; relation: string; bytes: number }>;
}

export function readStep(dir: string, index: number): StepReadings {
  const readings: StepReadings = { startSeconds: 0, endSeconds: 0, filesBefore: new Map(), locks: [], filesAfter: new Map() };
  for (const [kind = '', a = '', b = ''] of readRows(fileOf(dir, index, 'start'))) {
    if (kind === 'time') readings.startSeconds = Number(a);
    else if (kind === 'rel') readings.filesBefore.set(a, b);
  }
  for (const [kind = '', a = '', b = '', c = ''] of readRows(fileOf(dir, index, 'locks'))) {
    if (kind === 'time') readings.endSeconds = Number(a);
    else if (kind === 'lock') readings.locks.push({ oid: a, mode: b, relation: c });
  }
  for (const [, a = '', b = '', c = ''] of readRows(fileOf(dir, index, 'files'))) {
    const space = c.lastIndexOf(' ');
    readings.filesAfter.set(a, { file: b, relation: c.slice(0, space), bytes: Number(c.slice(space + 1)) });
  }
  return readings;
}

const LOCK_ORDER = ['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'ShareUpdateExclusiveLock', 'RowExclusiveLock', 'RowShareLock', 'AccessShareLock'];

/** What a migration did, from its readings, with the flags the thresholds raise. Pure. */
export function summarizeStep(name: string, readings: StepReadings, thresholds: RehearsalThresholds): RehearsedMigration {
  const durationMs = Math.max(0, (readings.endSeconds - readings.startSeconds) * 1000);
  const strongest = new Map<string, RelationLock>();
  for (const lock of readings.locks) {
    const existing = readings.filesBefore.has(lock.oid);
    const known = strongest.get(lock.relation);
    if (!known || LOCK_ORDER.indexOf(lock.mode) < LOCK_ORDER.indexOf(known.mode)) strongest.set(lock.relation, { relation: lock.relation, mode: lock.mode, existing });
  }
  const locks = [...strongest.values()].sort((a, b) => LOCK_ORDER.indexOf(a.mode) - LOCK_ORDER.indexOf(b.mode) || (a.relation < b.relation ? -1 : 1));
  const rewritten: RewrittenTable[] = [];
  for (const [oid, after] of readings.filesAfter) {
    const before = readings.filesBefore.get(oid);
    if (before !== undefined && before !== after.file) rewritten.push({ relation: after.relation, bytes: after.bytes });
  }
  rewritten.sort((a, b) => b.bytes - a.bytes || (a.relation < b.relation ? -1 : 1));
  return { name, durationMs, locks, rewritten, flags: rehearsalFlags({ durationMs, locks, rewritten }, thresholds) };
}

/** Lock modes that stop writes (they conflict with ROW EXCLUSIVE): a reader of pg_locks waits behind these. */
const WRITE_BLOCKING = new Set(['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock']);

/**
 * Why a migration would hurt production, under the thresholds: a write-blocking lock on an
 * existing relation held for `longLockMs` or longer (relation locks are held until the
 * migration commits: for up to its duration), a rewrite of a table of `largeTableBytes`
 * or more.
 */
export function rehearsalFlags(step: Pick<RehearsedMigration, 'durationMs' | 'locks' | 'rewritten'>, thresholds: RehearsalThresholds): string[] {
  const flags: string[] = [];
  const blocking = step.locks.filter((lock) => WRITE_BLOCKING.has(lock.mode) && lock.existing);
  if (blocking.length > 0 && step.durationMs >= thresholds.longLockMs) {
    for (const mode of LOCK_ORDER.filter((candidate) => blocking.some((lock) => lock.mode === candidate))) {
      const relations = blocking.filter((lock) => lock.mode === mode).map((lock) => lock.relation);
      flags.push(`held ${lockModeName(mode)} on ${relations.join(', ')} for up to ${formatMs(step.durationMs)}`);
    }
  }
  for (const table of step.rewritten) {
    if (table.bytes >= thresholds.largeTableBytes) flags.push(`rewrote ${table.relation} (${formatBytes(table.bytes)})`);
  }
  return flags;
}

/** `AccessExclusiveLock` → `ACCESS EXCLUSIVE`. */
export function lockModeName(mode: string): string {
  return mode.replace(/Lock$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** The rehearsal of the steps a run completed, read from `dir`. */
export function readRehearsal(dir: string, steps: readonly Pick<MigrationStep, 'name'>[], thresholds: RehearsalThresholds = DEFAULT_THRESHOLDS): RehearsedMigration[] {
  return steps.map((step, index) => summarizeStep(step.name, readStep(dir, index), thresholds));
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`;
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${bytes} B`;
}

/**
 * A copy of another machine's cluster started here: a backup of production restored by
 * `database restore`, or diff's DB1. Its configuration files (postgresql.conf, the
 * ALTER SYSTEM settings of postgresql.auto.conf, pg_hba.conf) travel in the base backup
 * and were written for that machine. This module says which of its settings cannot
 * work here, or must not: each is overridden last in postgresql.auto.conf (the server
 * reads it last), with one line saying what and why; the others stay as they were.
 * restored-copy-files.ts makes its files usable by the tool first.
 */
import os from 'node:os';
import path from 'node:path';
import { confListElement, confSetting } from './server-config.js';
import { missingLibraries, splitListSetting } from './preload-libraries.js';
import { runProgram, type OsUser } from '../base/process.js';
import { writeBelow } from '../base/safe-files.js';
import { serverProgram, type PgPrograms } from '../pg/pg-bin.js';

/** Why the copy's setting or file was changed, in one line naming the copy (`subject`). */
export type Because = (subject: string) => string;

/**
 * A setting of the copy replaced here: what cannot work on this machine (a library not
 * installed, memory, huge pages), or must not, for a copy of production (the network,
 * the original's WAL archive).
 */
export interface CopyOverride {
  name: string;
  value: string;
  /** Undefined when the copy already had this value. */
  because?: Because;
}

/** PostgreSQL's own default: what a copy whose shared memory does not fit here gets. */
const FALLBACK_SHARED_BUFFERS = '128MB';

/** The settings read from the copy to decide what cannot work here… */
const START_SETTINGS = ['shared_preload_libraries', 'shared_buffers', 'block_size', 'huge_pages'] as const;
/** …of which a throw-away copy reads one: its memory is PostgreSQL's default whatever the copy says. */
const THROW_AWAY_START_SETTINGS = ['shared_preload_libraries'] as const;
/** …and, to explain a change, what must not. */
const PRIVATE_SETTINGS = ['listen_addresses', 'ssl', 'archive_mode'] as const;
export type CopyValues = Partial<Record<(typeof START_SETTINGS)[number] | (typeof PRIVATE_SETTINGS)[number], string>> & Record<string, string | undefined>;

/** What `postgres -C NAME` said of the copy: the value, or why it could not read the files. */
type Reading = { value: string } | { failure: string };

/**
 * The copy's value of `name` as its own configuration files set it, read by this
 * PostgreSQL the way it will start (`postgres -C`, includes and the auto file
 * applied). In English whatever the user's locale: a failure is read for what this
 * machine lacks.
 */
async function readSetting(config: PgPrograms, dataDir: string, user: OsUser, name: string): Promise<Reading> {
  const env = { ...config.env, LC_ALL: 'C' };
  const result = await runProgram(serverProgram(config, 'postgres'), ['-C', name, '-D', dataDir], { env, user, timeoutMs: 30_000 });
  return result.code === 0 ? { value: result.stdout.trim() } : { failure: result.stderr };
}

/** The copy's values of `names`, read at once (one short `postgres -C` each), and the failures' words, if any. */
async function readCopyValues(config: PgPrograms, dataDir: string, user: OsUser, names: readonly string[]): Promise<{ values: CopyValues; failure?: string }> {
  const readings = await Promise.all(names.map((name) => readSetting(config, dataDir, user, name)));
  const values = Object.fromEntries(names.map((name, i) => {
    const reading = readings[i];
    return [name, reading && 'value' in reading ? reading.value : undefined];
  }));
  const failures = readings.flatMap((reading) => ('failure' in reading ? [reading.failure] : []));
  return { values, failure: failures.length > 0 ? failures.join('\n') : undefined };
}

/** 1073741824 as 1GB, 1610612736 as 1.5GB: the units of postgresql.conf. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${units[unit]}`;
}

/**
 * Production's shared_buffers, sized for its memory, may not fit here: more than a
 * quarter of this machine's memory (the usual ceiling for a dedicated server) gets
 * PostgreSQL's default. A dev backup's own setting (1GB on a 16GB laptop) stays.
 */
function sharedBuffersOverride(values: CopyValues, memoryBytes: number): CopyOverride | undefined {
  const blocks = Number(values.shared_buffers);
  const blockSize = Number(values.block_size ?? 8192);
  if (!Number.isFinite(blocks) || !Number.isFinite(blockSize)) return undefined;
  const bytes = blocks * blockSize;
  if (bytes <= memoryBytes / 4) return undefined;
  return {
    name: 'shared_buffers',
    value: FALLBACK_SHARED_BUFFERS,
    because: (subject) =>
      `the backup's cluster has shared_buffers = ${formatBytes(bytes)}, more than a quarter of this machine's memory (${formatBytes(memoryBytes)}): ${subject} starts with ${FALLBACK_SHARED_BUFFERS}`,
  };
}

/** The copy's preload libraries, and those of them this PostgreSQL lacks. */
async function copyPreload(config: PgPrograms, values: CopyValues): Promise<{ configured: string[]; missing: string[] }> {
  const configured = splitListSetting(values.shared_preload_libraries ?? '');
  return { configured, missing: configured.length > 0 ? (await missingLibraries(config, configured)).missing : [] };
}

/** Only the preload libraries this PostgreSQL has: a missing one stops the server at start. */
function preloadOverride(configured: readonly string[], missing: readonly string[]): CopyOverride | undefined {
  if (missing.length === 0) return undefined;
  return {
    name: 'shared_preload_libraries',
    value: configured.filter((lib) => !missing.includes(lib)).map(confListElement).join(','),
    because: (subject) =>
      `the backup's cluster preloads ${missing.join(', ')}, not installed for this PostgreSQL: ${subject} starts without ${missing.length === 1 ? 'it' : 'them'}`,
  };
}

/**
 * pg_cron runs its jobs through a connection to `cron.host`: its default `localhost`
 * needs TCP, which the copy does not listen on, and another cluster's socket folder (a
 * backup of the tool's cluster of another project) reaches that cluster. The copy's
 * jobs connect through its own `socketDir`, as in the tool's fresh clusters.
 */
function cronHostOverride(values: CopyValues, preloaded: readonly string[], socketDir: string | undefined): CopyOverride | undefined {
  if (socketDir === undefined || !preloaded.includes('pg_cron')) return undefined;
  // Unset, the setting is not known to `postgres -C` (pg_cron is not loaded to read it).
  const host = values['cron.host'] ?? 'localhost';
  if (host === socketDir) return undefined;
  return {
    name: 'cron.host',
    value: socketDir,
    because: (subject) => `the backup's pg_cron connects its jobs to ${host}: ${subject}'s jobs connect through its own socket folder (and run against this copy)`,
  };
}

/** A throw-away copy's memory, whatever the copy says (not read, so not explained). */
const THROW_AWAY_MEMORY: CopyOverride[] = [
  { name: 'shared_buffers', value: FALLBACK_SHARED_BUFFERS },
  { name: 'huge_pages', value: 'off' },
];

/** huge_pages = on stops the server where no huge pages are set aside; `try` uses them when they are. */
function hugePagesOverride(values: CopyValues): CopyOverride | undefined {
  if (values.huge_pages !== 'on') return undefined;
  return {
    name: 'huge_pages',
    value: 'try',
    because: (subject) => `the backup's cluster has huge_pages = on, which fails where no huge pages are set aside: ${subject} starts with huge_pages = try`,
  };
}

/**
 * Always written, whatever the copy says (the tool's clusters are socket-only and never
 * archive): only a change from the copy's `values` is explained.
 */
export function privateOverrides(values: CopyValues = {}): CopyOverride[] {
  const changed = (value: string | undefined, wanted: string): boolean => value !== undefined && value !== wanted;
  return [
    {
      name: 'listen_addresses',
      value: '',
      because: changed(values.listen_addresses, '')
        ? (subject) => `the backup's cluster listens on '${values.listen_addresses}': ${subject} takes socket connections only (listen_addresses = ''), so production's pg_hba.conf host rules never open it to the network`
        : undefined,
    },
    {
      name: 'ssl',
      value: 'off',
      because: changed(values.ssl, 'off')
        ? (subject) => `the backup's cluster has ssl = on: ${subject} starts with ssl = off (SSL serves TCP only, and production's certificates need not be here)`
        : undefined,
    },
    {
      name: 'archive_mode',
      value: 'off',
      because: changed(values.archive_mode, 'off')
        ? (subject) => `the backup's cluster archives its WAL (archive_mode = ${values.archive_mode}): ${subject} does not, so it never writes into the original's archive`
        : undefined,
    },
  ];
}

export interface CopyOptions {
  /** Say why each privacy setting changed (else they are written unexplained, and not read). */
  explainPrivate: boolean;
  /**
   * A throw-away copy (diff's DB1): PostgreSQL's default shared memory and no huge pages,
   * unread and unexplained, like its privacy settings. Each `postgres -C` is a process
   * started while the run's other side is being built.
   */
  throwAway?: boolean;
  /** The copy's socket folder, for pg_cron's jobs (else cron.host is the caller's). */
  socketDir?: string;
  /** More settings to read, returned in `values`. */
  alsoRead?: readonly string[];
  /** This machine's memory. */
  memoryBytes?: number;
}

/** What the copy needs here, and what was already done for it. */
export interface CopyReading {
  /** To be written last in its postgresql.auto.conf. */
  overrides: CopyOverride[];
  /** Values this machine lacks, replaced at once in postgresql.auto.conf: the server could not read the others before. */
  replaced: Because[];
  values: CopyValues;
}

/**
 * What the copy in `dataDir` (below `anchor`, the server account's) needs to start here
 * and to stay private, decided from its own configuration files.
 */
export async function readRestoredCopy(config: PgPrograms, anchor: string, dataDir: string, user: OsUser, options: CopyOptions): Promise<CopyReading> {
  const { explainPrivate, throwAway = false, socketDir, alsoRead = [], memoryBytes = os.totalmem() } = options;
  const start = throwAway ? THROW_AWAY_START_SETTINGS : START_SETTINGS;
  const names = [...start, ...(explainPrivate ? PRIVATE_SETTINGS : []), ...(socketDir === undefined ? [] : ['cron.host']), ...alsoRead];
  let read = await readCopyValues(config, dataDir, user, names);
  const replaced = read.failure === undefined ? [] : replaceValuesThisMachineLacks(anchor, dataDir, user, read.failure);
  if (replaced.length > 0) read = await readCopyValues(config, dataDir, user, names);
  const { values } = read;
  const { configured, missing } = await copyPreload(config, values);
  const preloaded = configured.filter((lib) => !missing.includes(lib));
  const memory = throwAway ? THROW_AWAY_MEMORY : [sharedBuffersOverride(values, memoryBytes), hugePagesOverride(values)];
  const fits = [preloadOverride(configured, missing), ...memory, cronHostOverride(values, preloaded, socketDir)];
  return { overrides: [...privateOverrides(values), ...fits.filter((override): override is CopyOverride => override !== undefined)], replaced, values };
}

/** The overrides as postgresql.auto.conf lines (a keyword such as `off` bare, as PostgreSQL writes it). */
export function overrideLines(overrides: readonly CopyOverride[]): string[] {
  return overrides.map((override) => (/^[a-z]+$/.test(override.value) ? `${override.name} = ${override.value}` : confSetting(override.name, override.value)));
}

/**
 * Settings whose value names something of the machine: a locale or a time zone this
 * machine may lack (Debian's initdb writes production's locale into postgresql.conf).
 * PostgreSQL refuses to start with a value it cannot use; these are what it gets then.
 */
const MACHINE_VALUES: Record<string, string> = { lc_messages: 'C', lc_monetary: 'C', lc_numeric: 'C', lc_time: 'C', timezone: 'UTC', log_timezone: 'UTC' };

/**
 * Replaces, last in postgresql.auto.conf, the copy's values of MACHINE_VALUES that this
 * machine lacks, as the server named them when it could not read the files
 * (`failure`). A file with another error is left for the start to report.
 */
function replaceValuesThisMachineLacks(anchor: string, dataDir: string, user: OsUser, failure: string): Because[] {
  const lacking = new Map<string, string>();
  for (const match of failure.matchAll(/invalid value for parameter "([^"]+)": "([^\n]*)"/g)) {
    const name = (match[1] ?? '').toLowerCase();
    if (name in MACHINE_VALUES) lacking.set(name, match[2] ?? '');
  }
  if (lacking.size === 0) return [];
  const lines = [...lacking.keys()].map((name) => confSetting(name, MACHINE_VALUES[name] ?? ''));
  const block = `\n# db-tool: values this machine lacks (see \`database restore\`)\n${lines.join('\n')}\n`;
  writeBelow(anchor, path.join(dataDir, 'postgresql.auto.conf'), block, 'append', { owners: [user.uid] });
  return [...lacking].map(([name, value]) => (subject) => {
    const what = name.startsWith('lc_') ? 'a locale' : 'a time zone';
    return `the backup's cluster has ${name} = '${value}', ${what} this machine lacks: ${subject} uses ${MACHINE_VALUES[name]} (install it to keep the original)`;
  });
}

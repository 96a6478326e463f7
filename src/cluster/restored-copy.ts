/**
 * A copy of another machine's cluster started here: a backup of production restored by
 * `database restore`, or diff's DB1. Its configuration files (postgresql.conf, the
 * ALTER SYSTEM settings of postgresql.auto.conf, pg_hba.conf) travel in the base backup
 * and were written for that machine. This module says which of its settings cannot
 * work here, or must not: each is overridden last in postgresql.auto.conf (the server
 * reads it last), with one line saying what and why; the others stay as they were.
 */
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './os-user.js';
import { confListElement, confSetting } from './server-config.js';
import { missingLibraries, splitListSetting } from './preload-libraries.js';
import type { Config } from '../base/config.js';
import { runProgram, type OsUser } from '../base/process.js';
import { chownBelow, readBelow, writeBelow } from '../base/safe-files.js';
import { serverProgram, type PgPrograms } from '../pg/pg-bin.js';

/**
 * A setting of the copy replaced here: what cannot work on this machine (a library not
 * installed, memory, huge pages), or must not, for a copy of production (the network,
 * the original's WAL archive).
 */
export interface CopyOverride {
  name: string;
  value: string;
  /** Why, in one line naming the copy (`subject`); undefined when the copy already had this value. */
  because?: (subject: string) => string;
}

/** PostgreSQL's own default: what a copy whose shared memory does not fit here gets. */
const FALLBACK_SHARED_BUFFERS = '128MB';

/** The settings read from the copy to decide what cannot work here… */
const START_SETTINGS = ['shared_preload_libraries', 'shared_buffers', 'block_size', 'huge_pages'] as const;
/** …and, to explain a change, what must not. */
const PRIVATE_SETTINGS = ['listen_addresses', 'ssl', 'archive_mode'] as const;
export type CopyValues = Partial<Record<(typeof START_SETTINGS)[number] | (typeof PRIVATE_SETTINGS)[number], string>>;

/**
 * The copy's value of `name` as its own configuration files set it, read by this
 * PostgreSQL the way it will start (`postgres -C`, includes and the auto file
 * applied); undefined when the server cannot read them (starting it then says why).
 */
async function copySetting(config: PgPrograms, dataDir: string, user: OsUser, name: string): Promise<string | undefined> {
  const result = await runProgram(serverProgram(config, 'postgres'), ['-C', name, '-D', dataDir], { env: config.env, user, timeoutMs: 30_000 });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The copy's values of `names`, read at once (one short `postgres -C` each). */
async function readCopyValues(config: PgPrograms, dataDir: string, user: OsUser, names: readonly string[]): Promise<CopyValues> {
  const values = await Promise.all(names.map((name) => copySetting(config, dataDir, user, name)));
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
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

/** Only the preload libraries this PostgreSQL has: a missing one stops the server at start. */
async function preloadOverride(config: PgPrograms, values: CopyValues): Promise<CopyOverride | undefined> {
  const configured = splitListSetting(values.shared_preload_libraries ?? '');
  if (configured.length === 0) return undefined;
  const { missing } = await missingLibraries(config, configured);
  if (missing.length === 0) return undefined;
  return {
    name: 'shared_preload_libraries',
    value: configured.filter((lib) => !missing.includes(lib)).map(confListElement).join(','),
    because: (subject) =>
      `the backup's cluster preloads ${missing.join(', ')}, not installed for this PostgreSQL: ${subject} starts without ${missing.length === 1 ? 'it' : 'them'}`,
  };
}

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

export interface OverrideOptions {
  /** Say why each privacy setting changed (else they are written unexplained, and not read). */
  explainPrivate: boolean;
  /** This machine's memory. */
  memoryBytes?: number;
}

/**
 * What the copy in `dataDir` (the server account's) needs to start here and to stay
 * private, decided from its own configuration files.
 */
export async function restoredCopyOverrides(config: PgPrograms, dataDir: string, user: OsUser, options: OverrideOptions): Promise<CopyOverride[]> {
  const { explainPrivate, memoryBytes = os.totalmem() } = options;
  const values = await readCopyValues(config, dataDir, user, explainPrivate ? [...START_SETTINGS, ...PRIVATE_SETTINGS] : START_SETTINGS);
  const start = [await preloadOverride(config, values), sharedBuffersOverride(values, memoryBytes), hugePagesOverride(values)];
  return [...privateOverrides(values), ...start.filter((override): override is CopyOverride => override !== undefined)];
}

/** The overrides as postgresql.auto.conf lines (a keyword such as `off` bare, as PostgreSQL writes it). */
export function overrideLines(overrides: readonly CopyOverride[]): string[] {
  return overrides.map((override) => (/^[a-z]+$/.test(override.value) ? `${override.name} = ${override.value}` : confSetting(override.name, override.value)));
}

/**
 * The lines our fresh clusters have first (initdb --auth-local=trust): the tool connects
 * through the socket as the server account, without a password, for its own work and
 * for `database backup` (a replication connection).
 */
const TOOL_HBA_LINES = ['local all all trust', 'local replication all trust'];

/** The `local` lines of a pg_hba.conf, comments and spacing dropped. */
function localRules(hba: string): string[][] {
  return hba
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((fields) => fields[0] === 'local');
}

/**
 * True when the tool's connections meet `trust` first: the first `local` rule for
 * ordinary databases is `local all all trust`, the first for replication `local
 * replication all trust` (`all` does not match replication connections).
 */
export function trustsToolConnections(hba: string): boolean {
  const rules = localRules(hba);
  const first = (replication: boolean): string | undefined => rules.find((fields) => (fields[1] === 'replication') === replication)?.join(' ');
  return first(false) === TOOL_HBA_LINES[0] && first(true) === TOOL_HBA_LINES[1];
}

/** Makes `file` (missing) below `anchor` with `text`, the server account's. */
function createServerFile(config: Pick<Config, 'euid'>, anchor: string, file: string, text: string, user: OsUser): void {
  writeBelow(anchor, file, text, 'create', { mode: 0o600 });
  if (isRoot(config)) chownBelow(anchor, file, user.uid, user.gid);
}

/**
 * Puts the tool's `trust` lines first in the copy's pg_hba.conf when its own rules
 * would refuse the tool (production's `scram-sha-256` or `peer` for local connections);
 * production's rules follow unchanged. Makes the file when the backup has none.
 */
function trustToolConnections(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): ((subject: string) => string) | undefined {
  const file = path.join(dataDir, 'pg_hba.conf');
  const owners = { owners: [user.uid] };
  const hba = readBelow(anchor, file, owners);
  if (hba !== undefined && trustsToolConnections(hba)) return undefined;
  const header = `# db-tool: the tool connects through the socket as in its fresh clusters (see \`database restore\`)\n${TOOL_HBA_LINES.join('\n')}\n`;
  const lines = TOOL_HBA_LINES.map((line) => `\`${line}\``).join(' and ');
  if (hba === undefined) {
    createServerFile(config, anchor, file, header, user);
    return (subject) => `the backup has no pg_hba.conf (production keeps it elsewhere): ${subject} gets one with ${lines}`;
  }
  writeBelow(anchor, file, `${header}# the backup's own rules:\n${hba}`, 'rewrite', owners);
  return (subject) => `the backup's pg_hba.conf does not trust the tool's local connections: ${subject} has ${lines} first, as the tool's fresh clusters, then the backup's own rules`;
}

/**
 * A backup of a cluster whose postgresql.conf lives elsewhere (Debian keeps it in
 * /etc/postgresql) has none: the server will not start without one, and the tool adds
 * its managed block to it. An empty one leaves PostgreSQL's defaults and the backup's
 * ALTER SYSTEM settings.
 */
function ensureServerConf(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): ((subject: string) => string) | undefined {
  const file = path.join(dataDir, 'postgresql.conf');
  if (readBelow(anchor, file, { owners: [user.uid] }) !== undefined) return undefined;
  createServerFile(config, anchor, file, "# db-tool: the backup had no postgresql.conf (see `database restore`)\n", user);
  return (subject) => `the backup has no postgresql.conf (production keeps it elsewhere): ${subject} starts with PostgreSQL's defaults and the backup's ALTER SYSTEM settings`;
}

/**
 * The settings the tool gives its clusters itself, in the managed block at the end of
 * postgresql.conf (server-config.ts): the port, the socket folder, the log folder.
 * postgresql.auto.conf is read after it, so production's ALTER SYSTEM values would win
 * there, and the tool would not find its server.
 */
const TOOL_MANAGED = ['port', 'unix_socket_directories', 'log_directory'];

/** Comments out the copy's ALTER SYSTEM lines of the settings the tool manages. */
function dropManagedAlterSystem(anchor: string, dataDir: string, user: OsUser): Array<(subject: string) => string> {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  const owners = { owners: [user.uid] };
  const text = readBelow(anchor, file, owners);
  if (text === undefined) return [];
  const dropped: string[] = [];
  const lines = text.split('\n').map((line) => {
    const name = /^\s*([A-Za-z_][\w.]*)\s*(=|\s)/.exec(line)?.[1]?.toLowerCase();
    if (name === undefined || !TOOL_MANAGED.includes(name)) return line;
    dropped.push(line.trim());
    return `# db-tool: the tool sets this itself (see \`database restore\`): ${line}`;
  });
  if (dropped.length === 0) return [];
  writeBelow(anchor, file, lines.join('\n'), 'rewrite', owners);
  return dropped.map((line) => (subject) => `the backup's cluster sets ${line} with ALTER SYSTEM: dropped, as ${subject} gets its port, socket folder and log folder from the tool`);
}

/**
 * Settings whose value names something of the machine: a locale or a time zone this
 * machine may lack (Debian's initdb writes production's locale into postgresql.conf).
 * PostgreSQL refuses to start with a value it cannot use; these are what it gets then.
 */
const MACHINE_VALUES: Record<string, string> = { lc_messages: 'C', lc_monetary: 'C', lc_numeric: 'C', lc_time: 'C', timezone: 'UTC', log_timezone: 'UTC' };

/**
 * Replaces, last in postgresql.auto.conf, the copy's values of MACHINE_VALUES that this
 * machine lacks (after prepareCopyFiles: a missing postgresql.conf is an error of
 * another kind). Returns why, one line each naming the copy. The server says which when it reads the files (`postgres -C`, in
 * English whatever the user's locale); a file with another error is left for the start
 * to report.
 */
export async function replaceValuesThisMachineLacks(config: PgPrograms, anchor: string, dataDir: string, user: OsUser): Promise<Array<(subject: string) => string>> {
  const env = { ...config.env, LC_ALL: 'C' };
  const result = await runProgram(serverProgram(config, 'postgres'), ['-C', 'block_size', '-D', dataDir], { env, user, timeoutMs: 30_000 });
  if (result.code === 0) return [];
  const lacking = new Map<string, string>();
  for (const match of result.stderr.matchAll(/invalid value for parameter "([^"]+)": "([^\n]*)"/g)) {
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

/**
 * The configuration files of the copy in `dataDir` (below `anchor`, the server
 * account's) made usable by the tool here, before its settings are read: a
 * postgresql.conf when the backup has none, production's ALTER SYSTEM values of the
 * settings the tool manages dropped, and the tool's `trust` lines first in pg_hba.conf.
 * Returns why each change was made, in one line naming the copy.
 */
export function prepareCopyFiles(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): Array<(subject: string) => string> {
  const changes = [ensureServerConf(config, anchor, dataDir, user), ...dropManagedAlterSystem(anchor, dataDir, user), trustToolConnections(config, anchor, dataDir, user)];
  return changes.filter((change): change is (subject: string) => string => change !== undefined);
}

/**
 * A copy whose postgresql.conf logs outside its data folder (production's
 * /var/log/postgresql, which may not exist here, or be the system's) logs into the
 * data folder's `log/`, where the tool reads a project cluster's logs. Added to
 * postgresql.conf, before the managed block that the tool writes next and that sets
 * PG_LOG_PATH's folder when there is one. `finalDataDir`: where the copy will start.
 */
export async function keepLogsInDataDir(config: PgPrograms, anchor: string, dataDir: string, finalDataDir: string, user: OsUser): Promise<((subject: string) => string) | undefined> {
  const value = await copySetting(config, dataDir, user, 'log_directory');
  if (value === undefined) return undefined;
  const relative = path.relative(finalDataDir, path.resolve(finalDataDir, value));
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) return undefined;
  const line = "\n# db-tool restore: logs in the data folder (see `database restore`)\nlog_directory = 'log'\n";
  writeBelow(anchor, path.join(dataDir, 'postgresql.conf'), line, 'append', { owners: [user.uid] });
  return (subject) => `the backup's cluster logs into ${value}: ${subject} logs into its data folder's log/ instead`;
}

/**
 * The configuration files of a copy of another machine's cluster (restored-copy.ts)
 * made usable by the tool here: a postgresql.conf and a pg_hba.conf that let the tool
 * start its server and connect to it, with the port, socket and log folders the tool
 * gives its clusters. Each change is said in one line; the rest of production's
 * configuration stays.
 */
import path from 'node:path';
import { isRoot } from './os-user.js';
import type { Because } from './restored-copy.js';
import type { Config } from '../base/config.js';
import type { OsUser } from '../base/process.js';
import { chownBelow, readBelow, writeBelow } from '../base/safe-files.js';

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
function trustToolConnections(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): Because | undefined {
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
function ensureServerConf(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): Because | undefined {
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
function dropManagedAlterSystem(anchor: string, dataDir: string, user: OsUser): Because[] {
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
 * The configuration files of the copy in `dataDir` (below `anchor`, the server
 * account's) made usable by the tool here, before its settings are read: a
 * postgresql.conf when the backup has none, production's ALTER SYSTEM values of the
 * settings the tool manages dropped, and the tool's `trust` lines first in pg_hba.conf.
 * Returns why each change was made, in one line naming the copy.
 */
export function prepareCopyFiles(config: Pick<Config, 'euid'>, anchor: string, dataDir: string, user: OsUser): Because[] {
  const changes = [ensureServerConf(config, anchor, dataDir, user), ...dropManagedAlterSystem(anchor, dataDir, user), trustToolConnections(config, anchor, dataDir, user)];
  return changes.filter((change): change is Because => change !== undefined);
}

/**
 * A copy whose postgresql.conf logs outside its data folder (`logDirectory`:
 * production's /var/log/postgresql, which may not exist here, or be the system's) logs
 * into the data folder's `log/`, where the tool reads a project cluster's logs. Added to
 * postgresql.conf, before the managed block that the tool writes next and that sets
 * PG_LOG_PATH's folder when there is one. `finalDataDir`: where the copy will start.
 */
export function keepLogsInDataDir(anchor: string, dataDir: string, finalDataDir: string, user: OsUser, logDirectory: string | undefined): Because | undefined {
  if (logDirectory === undefined) return undefined;
  const relative = path.relative(finalDataDir, path.resolve(finalDataDir, logDirectory));
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) return undefined;
  const line = "\n# db-tool restore: logs in the data folder (see `database restore`)\nlog_directory = 'log'\n";
  writeBelow(anchor, path.join(dataDir, 'postgresql.conf'), line, 'append', { owners: [user.uid] });
  return (subject) => `the backup's cluster logs into ${logDirectory}: ${subject} logs into its data folder's log/ instead`;
}

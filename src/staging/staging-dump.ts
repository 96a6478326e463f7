/**
 * The pure parts of `database pull_staging` (SPEC §9): reading the four STAGING_*
 * settings, the remote `pg_dump` command line (every word quoted for the remote
 * shell), and the text around the dump in test-data.sql (header, sequence resets).
 */
import type { Config } from '../base/config.js';
import { quoteLiteral } from '../pg/db.js';
import { assertTableNames, splitTableList } from '../pg/table-names.js';
import { MissingInputError, BadInputError } from '../base/errors.js';
import { shellQuote } from '../base/shell-quote.js';
import { separateConnectionPassword } from '../base/redact.js';

export interface StagingSettings {
  sshHost: string;
  dbUrl: string;
  tables: string[];
  /** STAGING_DUMP_FLAGS split on whitespace, nothing expanded. */
  flags: string[];
}

/**
 * The four variables, checked in the documented order (the first missing one → exit 3
 * naming it), then the table names (exit 1 naming the bad one). STAGING_DUMP_FLAGS may
 * be empty but must be set; STAGING_DUMP_TABLES must name at least one table.
 */
export function readStagingSettings(config: Pick<Config, 'staging'>): StagingSettings {
  const { sshHost, dbUrl, dumpTables, dumpFlags } = config.staging;
  const missing = (name: string, what = 'is not set'): MissingInputError =>
    new MissingInputError(`${name} ${what} (pull_staging needs all four STAGING_* variables; see README)`);
  if (!sshHost?.trim()) throw missing('STAGING_SSH_HOST');
  if (!dbUrl?.trim()) throw missing('STAGING_DB_URL');
  const tables = splitTableList(dumpTables ?? '', ' \t\n');
  if (tables.length === 0) throw missing('STAGING_DUMP_TABLES', dumpTables === undefined ? 'is not set' : 'names no table');
  if (dumpFlags === undefined) throw missing('STAGING_DUMP_FLAGS');
  // ssh would read such a "host" as an option.
  if (sshHost.trim().startsWith('-') || /\s/.test(sshHost.trim())) {
    throw new BadInputError(`STAGING_SSH_HOST must be an ssh destination (user@host, host, or a Host alias of ~/.ssh/config), got '${sshHost}'`);
  }
  assertTableNames(tables, 'STAGING_DUMP_TABLES');
  return { sshHost: sshHost.trim(), dbUrl: dbUrl.trim(), tables, flags: splitFlags(dumpFlags) };
}

/** Splits flags into words at whitespace: no quotes, no globbing, no variables. */
export function splitFlags(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

export interface RemoteDump {
  /** The command for the remote shell, every word quoted; it holds no password. */
  command: string;
  /** What ssh sends to the remote command's stdin: the password's line, when there is one. */
  stdin: string | undefined;
}

/**
 * The pg_dump invocation for the remote shell. The URL's password never goes on a
 * command line (ours shows in `ps` here, the remote shell's there): the remote shell
 * reads it from stdin into PGPASSWORD, which only pg_dump sees.
 */
export function remoteDumpCommand(settings: Pick<StagingSettings, 'dbUrl' | 'flags' | 'tables'>): RemoteDump {
  const { url, password } = separateConnectionPassword(settings.dbUrl);
  const words = ['pg_dump', url, ...settings.flags, ...settings.tables.flatMap((table) => ['-t', table])];
  const dump = words.map(shellQuote).join(' ');
  if (password === undefined) return { command: dump, stdin: undefined };
  return { command: `IFS= read -r PGPASSWORD && export PGPASSWORD && ${dump}`, stdin: `${password}\n` };
}

/** ssh arguments: no prompts (BatchMode); the rest comes from ~/.ssh/config. */
export function sshArguments(sshHost: string, remoteCommand: string): string[] {
  return ['-o', 'BatchMode=yes', sshHost, remoteCommand];
}

export interface HeaderFacts {
  sshHost: string;
  tables: readonly string[];
  pulledAt: Date;
  generator: string;
}

export function fileHeader(facts: HeaderFacts): string {
  const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ');
  return [
    '-- test-data.sql: pulled from staging by `database pull_staging`; edit or pull again',
    `-- source host: ${oneLine(facts.sshHost)}`,
    `-- tables: ${oneLine(facts.tables.join(' '))}`,
    `-- pulled at: ${facts.pulledAt.toISOString().replace(/\.\d{3}Z$/, 'Z')} (UTC)`,
    `-- generator: ${facts.generator}`,
    '',
    '',
  ].join('\n');
}

/**
 * Per table, moves the sequence of a serial/identity `id` column to max(id) (or back
 * to its start when the table is empty), so inserts after loading the data do not
 * collide. A table without such a column (or missing locally) is left alone.
 */
export function sequenceReset(table: string): string {
  return [
    'DO $db_tool$',
    'DECLARE',
    `    rel regclass := to_regclass(${quoteLiteral(table)});`,
    '    seq text;',
    'BEGIN',
    "    IF rel IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = 'id' AND attnum > 0 AND NOT attisdropped) THEN",
    "        seq := pg_get_serial_sequence(rel::text, 'id');",
    '        IF seq IS NOT NULL THEN',
    "            EXECUTE format('SELECT setval(%L, coalesce(max(id), 1), max(id) IS NOT NULL) FROM %s', seq, rel);",
    '        END IF;',
    '    END IF;',
    'END',
    '$db_tool$;',
  ].join('\n');
}

export function sequenceResets(tables: readonly string[]): string {
  if (tables.length === 0) return '';
  return ['', '-- db-tool: sequences of serial id columns follow the pulled data', ...tables.map(sequenceReset), ''].join('\n');
}

/** The pure parts of `database pull_staging`: settings, remote command, file text, redaction. */
import { describe, expect, it } from 'vitest';
import { scrub, urlPassword } from '../src/staging/pull-staging.js';
import { loadConfig } from '../src/base/config.js';
import { isDbToolError } from '../src/base/errors.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { fileHeader, readStagingSettings, remoteDumpCommand, sequenceReset, splitFlags, sshArguments } from '../src/staging/staging-dump.js';

const FULL = {
  STAGING_SSH_HOST: 'staging',
  STAGING_DB_URL: 'postgresql://app:s3cret@db/app',
  STAGING_DUMP_TABLES: 'users public.orders',
  STAGING_DUMP_FLAGS: '--data-only --column-inserts',
};

function settingsError(env: Record<string, string | undefined>): { code: number; message: string } {
  try {
    readStagingSettings(loadConfig(env, '/'));
  } catch (error) {
    if (isDbToolError(error)) return { code: exitCodeFor(error), message: error.message };
    throw error;
  }
  throw new Error('expected an error');
}

describe('readStagingSettings', () => {
  it('reads the four variables', () => {
    expect(readStagingSettings(loadConfig(FULL, '/'))).toEqual({
      sshHost: 'staging',
      dbUrl: 'postgresql://app:s3cret@db/app',
      tables: ['users', 'public.orders'],
      flags: ['--data-only', '--column-inserts'],
    });
  });

  it.each(['STAGING_SSH_HOST', 'STAGING_DB_URL', 'STAGING_DUMP_TABLES', 'STAGING_DUMP_FLAGS'])('exits 3 naming %s when it is missing', (name) => {
    const error = settingsError({ ...FULL, [name]: undefined });
    expect(error.code).toBe(3);
    expect(error.message).toContain(name);
    for (const other of Object.keys(FULL).filter((key) => key !== name)) expect(error.message).not.toContain(other);
  });

  it('names the first missing variable', () => {
    expect(settingsError({}).message).toMatch(/^STAGING_SSH_HOST /);
    expect(settingsError({ STAGING_SSH_HOST: 'h' }).message).toMatch(/^STAGING_DB_URL /);
  });

  it('accepts empty flags but not an empty table list', () => {
    expect(readStagingSettings(loadConfig({ ...FULL, STAGING_DUMP_FLAGS: '' }, '/')).flags).toEqual([]);
    expect(settingsError({ ...FULL, STAGING_DUMP_TABLES: '   ' }).code).toBe(3);
  });

  it('exits 1 for a table name that is not an identifier', () => {
    const error = settingsError({ ...FULL, STAGING_DUMP_TABLES: 'users;rm' });
    expect(error.code).toBe(1);
    expect(error.message).toContain("'users;rm'");
  });
});

describe('remote command', () => {
  it('splits flags on whitespace without expanding anything', () => {
    expect(splitFlags("  --data-only\t--exclude-table-data='x y' $HOME *  ")).toEqual(['--data-only', "--exclude-table-data='x", "y'", '$HOME', '*']);
  });

  it('quotes every word for the remote shell', () => {
    const remote = remoteDumpCommand({ dbUrl: "postgresql://u@h/db?sslmode=require&application_name=a'b", flags: ['--data-only', '$(touch /tmp/x)'], tables: ['"My Table"', 'public.t'] });
    expect(remote).toEqual({
      command: `pg_dump 'postgresql://u@h/db?sslmode=require&application_name=a'\\''b' --data-only '$(touch /tmp/x)' -t '"My Table"' -t public.t`,
      stdin: undefined,
    });
  });

  it('sends the password on the remote stdin, never on a command line', () => {
    const remote = remoteDumpCommand({ dbUrl: "postgresql://u:p'w LEAK@h/db", flags: [], tables: ['t'] });
    expect(remote.command).toBe(`IFS= read -r PGPASSWORD && export PGPASSWORD && pg_dump postgresql://u@h/db -t t`);
    expect(remote.stdin).toBe("p'w LEAK\n");
    const conninfo = remoteDumpCommand({ dbUrl: "host=h password='a b' dbname=app", flags: [], tables: ['t'] });
    expect(conninfo.command).not.toContain('a b');
    expect(conninfo.command).toContain(`'host=h dbname=app'`);
    expect(conninfo.stdin).toBe('a b\n');
  });

  it('runs ssh in batch mode', () => {
    expect(sshArguments('deploy@staging', 'pg_dump')).toEqual(['-o', 'BatchMode=yes', 'deploy@staging', 'pg_dump']);
  });

  it('refuses a host ssh would read as an option', () => {
    expect(settingsError({ ...FULL, STAGING_SSH_HOST: '-oProxyCommand=touch /tmp/x' }).code).toBe(1);
    expect(settingsError({ ...FULL, STAGING_SSH_HOST: 'a b' }).code).toBe(1);
  });
});

describe('file text', () => {
  it('has a header with host, UTC time and generator', () => {
    const header = fileHeader({ sshHost: 'staging', tables: ['users'], pulledAt: new Date('2025-01-02T03:04:05.678Z'), generator: 'db-tool 1.2.3' });
    expect(header).toContain('-- source host: staging');
    expect(header).toContain('-- pulled at: 2025-01-02T03:04:05Z (UTC)');
    expect(header).toContain('-- generator: db-tool 1.2.3');
    expect(header.split('\n').filter((line) => line !== '').every((line) => line.startsWith('--'))).toBe(true);
  });

  it('resets a serial id sequence only when there is one', () => {
    const sql = sequenceReset('"My Table"');
    expect(sql).toContain(`to_regclass('"My Table"')`);
    expect(sql).toContain("pg_get_serial_sequence(rel::text, 'id')");
    expect(sql).toContain('IF seq IS NOT NULL');
    expect(sql).toContain('coalesce(max(id), 1), max(id) IS NOT NULL');
  });
});

describe('password redaction', () => {
  it('finds the password of a URL or conninfo', () => {
    expect(urlPassword('postgresql://app:s%40cret@db/app')).toBe('s@cret');
    expect(urlPassword('postgresql://app@db/app')).toBeUndefined();
    expect(urlPassword('host=db password=hunter2 dbname=app')).toBe('hunter2');
    expect(urlPassword('postgresql://app:PW LEAK@db/app')).toBe('PW LEAK');
  });

  it('scrubs it from any text', () => {
    expect(scrub('FATAL: bad value "s3cret" in postgresql://app:s3cret@db/app', 's3cret')).toBe('FATAL: bad value "***" in postgresql://app:***@db/app');
  });
});

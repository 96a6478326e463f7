/**
 * What a copy of another machine's cluster keeps: whether its pg_hba.conf already lets
 * the tool in through the socket, and how its memory is named in a warning.
 */
import { describe, expect, it } from 'vitest';
import { formatBytes, privateOverrides } from '../src/cluster/restored-copy.js';
import { trustsToolConnections } from '../src/cluster/restored-copy-files.js';
import { mayLackRole } from '../src/backup/backup-files.js';

/** initdb's file for our fresh clusters (--auth-local=trust --auth-host=scram-sha-256). */
const FRESH_CLUSTER_HBA = `
# "local" is for Unix domain socket connections only
local   all             all                                     trust
host    all             all             127.0.0.1/32            scram-sha-256
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            scram-sha-256
`;

describe('trustsToolConnections', () => {
  it("accepts the tool's own clusters' file, and the tool's lines in any spacing", () => {
    expect(trustsToolConnections(FRESH_CLUSTER_HBA)).toBe(true);
    expect(trustsToolConnections('local replication all trust # backups\nlocal\tall\tall\ttrust\n')).toBe(true);
  });

  it('refuses a password or peer rule for local connections, or none at all', () => {
    expect(trustsToolConnections('local all all scram-sha-256\nlocal replication all trust\n')).toBe(false);
    expect(trustsToolConnections('local all all peer\nlocal replication all peer\n')).toBe(false);
    expect(trustsToolConnections('host all all 0.0.0.0/0 scram-sha-256\n')).toBe(false);
    expect(trustsToolConnections('')).toBe(false);
  });

  it('refuses a file whose first matching rule is not the trust line', () => {
    // The first rule that matches a connection decides: an earlier one for a database wins.
    expect(trustsToolConnections(`local testdb all md5\n${FRESH_CLUSTER_HBA}`)).toBe(false);
    // `all` does not match replication connections: backups need their own trust line.
    expect(trustsToolConnections('local all all trust\nlocal replication all md5\n')).toBe(false);
    expect(trustsToolConnections('local all all trust\n')).toBe(false);
    // A commented-out line is no rule.
    expect(trustsToolConnections('# local all all trust\nlocal all all peer\nlocal replication all trust\n')).toBe(false);
  });
});

describe('formatBytes', () => {
  it('names sizes in the units of postgresql.conf', () => {
    expect(formatBytes(128 * 1024 ** 2)).toBe('128MB');
    expect(formatBytes(1024 ** 4)).toBe('1TB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5GB');
    expect(formatBytes(8192)).toBe('8kB');
  });
});

describe('privateOverrides', () => {
  it('keeps the copy off the network and out of the original archive, explaining only a change', () => {
    const unchanged = privateOverrides({ listen_addresses: '', ssl: 'off', archive_mode: 'off' });
    expect(unchanged.map((override) => [override.name, override.value])).toEqual([['listen_addresses', ''], ['ssl', 'off'], ['archive_mode', 'off']]);
    expect(unchanged.filter((override) => override.because)).toEqual([]);
    const production = privateOverrides({ listen_addresses: '*', ssl: 'on', archive_mode: 'always' });
    expect(production.map((override) => override.because?.('the copy'))).toEqual([
      expect.stringMatching(/listens on '\*': the copy takes socket connections only/),
      expect.stringMatching(/ssl = on: the copy starts with ssl = off/),
      expect.stringMatching(/archive_mode = always\): the copy does not/),
    ]);
  });
});

describe('mayLackRole', () => {
  it('trusts a backup that says it was taken as the role the tool will connect as, and no other', () => {
    expect(mayLackRole({ ...BACKUP_INFO, role: 'postgres' }, 'postgres')).toBe(false);
    expect(mayLackRole({ ...BACKUP_INFO, role: 'postgres' }, 'alice')).toBe(true);
    // Backups of earlier versions, and of other tools, do not say.
    expect(mayLackRole(BACKUP_INFO, 'postgres')).toBe(true);
    expect(mayLackRole(undefined, 'postgres')).toBe(true);
  });
});

const BACKUP_INFO = { createdAt: '2026-12-07T00:00:00Z', sourceDataDir: '/x', database: 'app', serverVersion: '15.14', generator: 'db-tool 0.2.0' };

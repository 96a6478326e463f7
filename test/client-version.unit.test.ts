/** Version-bound client programs: reading versions and the one-line message (src/pg/client-version.ts). */
import { describe, expect, it } from 'vitest';
import { clientTooOldMessage, majorVersion, parseVersion } from '../src/pg/client-version.js';

describe('version parsing and the message', () => {
  it('reads versions as programs and servers print them', () => {
    expect(parseVersion('pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)')).toBe('15.14');
    expect(parseVersion('16.4 (Debian 16.4-1.pgdg120+1)')).toBe('16.4');
    expect(parseVersion('17beta2')).toBe('17');
    expect(parseVersion('no digits')).toBeUndefined();
    expect(majorVersion('17.10')).toBe(17);
    expect(majorVersion('9.6.24')).toBe(9.6);
  });

  it('complains only when the client is older than the server, naming both and the fix', () => {
    expect(clientTooOldMessage('pg_dump', '17.2', '17.10', '/usr/bin/pg_dump')).toBeUndefined();
    expect(clientTooOldMessage('pg_dump', '18.0', '16.4', '/usr/bin/pg_dump')).toBeUndefined();
    const message = clientTooOldMessage('pg_basebackup', '15.14', '18.1', '/usr/bin/pg_basebackup');
    expect(message).toBe(
      'pg_basebackup 15.14 (/usr/bin/pg_basebackup) is older than the server, PostgreSQL 18.1, and cannot work with it: ' +
        'install pg_basebackup 18 or newer (Debian/Ubuntu: apt-get install postgresql-client-18; Nix: postgresql_18) ' +
        'and put it first on PATH or in PG_BIN_DIR',
    );
    expect(message).not.toContain('\n');
  });
});

/** Names and URLs of the per-file test copies, and the fallback message (no server needed). */
import { describe, expect, it } from 'vitest';
import { cloneName, describeBlockers, ownerOf, urlForDatabase } from '../src/build/test-clones.js';

describe('test copies', () => {
  it('every name carries the pid of the run that made it', () => {
    expect(cloneName(4242, 3)).toBe('dbtool_test_4242_3');
    expect(ownerOf('dbtool_test_4242_3')).toBe(4242);
    expect(ownerOf('dbtool_test_4242')).toBe(4242);
    expect(ownerOf('db-tool-test-4242-AbC123')).toBe(4242);
    expect(ownerOf('dbtool_test_x_3')).toBeUndefined();
    expect(ownerOf('testdb')).toBeUndefined();
  });

  it('a copy is reached by the target URL with its own database, whatever shape the URL has', () => {
    expect(urlForDatabase('postgresql://me@/testdb?host=/run/sock&port=5432', 'c_1')).toBe('postgresql://me@/c_1?host=/run/sock&port=5432');
    expect(urlForDatabase('postgres://u:p%2Fw@db.example:6543/app?sslmode=require', 'c_1')).toBe('postgres://u:p%2Fw@db.example:6543/c_1?sslmode=require');
    expect(urlForDatabase('postgresql:///testdb', 'c_1')).toBe('postgresql:///c_1');
  });

  it("names who blocks the copy, and for pg_cron's scheduler what to do about it", () => {
    expect(describeBlockers('testdb', [{ pid: 7, kind: 'client backend', application: 'psql' }])).toBe(
      'testdb is in use by a session (pid 7, psql), and PostgreSQL copies only databases nobody is connected to',
    );
    const cron = describeBlockers('testdb', [{ pid: 9, kind: 'pg_cron launcher', application: 'pg_cron scheduler' }]);
    expect(cron).toContain("pg_cron's scheduler (pid 9, cron.database_name)");
    expect(cron).toContain("PG_SHARED_PRELOAD_LIBRARIES=''");
    const many = describeBlockers('testdb', [1, 2, 3, 4, 5].map((pid) => ({ pid, kind: 'client backend', application: '' })));
    expect(many).toContain('a session (pid 3) and 2 more');
  });
});

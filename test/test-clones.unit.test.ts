/** Names and URLs of the per-file test copies, and the fallback message (no server needed). */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBlockers, describeSession } from '../src/sqltest/target-survey.js';
import { cloneName, ownerOf, urlForDatabase } from '../src/sqltest/test-clones.js';
import { whyNotRestartable } from '../src/cluster/cron-launcher.js';
import { createEmptyDatabaseSql, describeWorkers, isResidentWorker, localeOf } from '../src/sqltest/test-snapshot-dump.js';

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

  it('names who blocks the copy so that its owner recognises it, and what to do', () => {
    const psql = { pid: 7, kind: 'client backend', application: 'psql', user: 'alice', client: 'socket', since: '07:31:05' };
    expect(describeBlockers('testdb', [psql])).toBe(
      'testdb is in use by psql (pid 7, user alice, socket, since 07:31:05), and PostgreSQL copies only databases nobody is connected to (end that session to give each file its own copy)',
    );
    expect(describeSession({ pid: 8, kind: 'client backend', application: '', client: '10.0.0.5' })).toBe('a session (pid 8, 10.0.0.5)');
    expect(describeSession({ pid: 9, kind: 'pg_cron launcher', application: 'pg_cron scheduler' })).toBe("pg_cron's scheduler (pid 9, cron.database_name)");
    const many = describeBlockers('testdb', [1, 2, 3, 4, 5].map((pid) => ({ pid, kind: 'client backend', application: '' })));
    expect(many).toContain('a session (pid 3) and 2 more');
    expect(many).toContain('(end those sessions to give each file its own copy)');
  });
});

describe("pg_cron's scheduler, moved off a database for a moment", () => {
  it('is restarted only when it is a process of the server on this machine', () => {
    expect(whyNotRestartable(process.pid, undefined)).toBe('only a superuser can tell where the server runs');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-cron-'));
    try {
      expect(whyNotRestartable(process.pid, dataDir)).toMatch(/postmaster\.pid is not readable/);
      // A "server" whose postmaster is not our parent: this process is not its launcher.
      fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), `${process.pid}\n${dataDir}\n`);
      expect(whyNotRestartable(process.pid, dataDir)).toBe(`pid ${process.pid} is not a process of the server on this machine`);
      fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), `${process.ppid}\n${dataDir}\n`);
      expect(whyNotRestartable(process.pid, dataDir)).toBeUndefined();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the pg_dump snapshot of a target background workers stay connected to', () => {
  it('only client sessions are ones that may end: any other backend type is a resident worker', () => {
    expect(isResidentWorker({ pid: 1, kind: 'client backend', application: 'psql' })).toBe(false);
    expect(isResidentWorker({ pid: 2, kind: 'pg_cron launcher', application: 'pg_cron scheduler' })).toBe(true);
    expect(isResidentWorker({ pid: 3, kind: 'logical replication worker', application: '' })).toBe(true);
    expect(describeWorkers([{ pid: 2, kind: 'pg_cron launcher', application: '' }, { pid: 3, kind: 'logical replication worker', application: '' }]))
      .toBe("pg_cron's scheduler (pid 2), a logical replication worker (pid 3)");
  });

  it("an empty database gets the target's encoding and locale, whatever the server's version calls the columns", () => {
    const libc = localeOf({ datcollate: 'en_US.UTF-8', datctype: 'en_US.UTF-8', datlocprovider: 'c', daticulocale: null }, 'UTF8');
    expect(createEmptyDatabaseSql('snap', libc, ' STRATEGY FILE_COPY')).toBe(
      `CREATE DATABASE "snap" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8' LOCALE_PROVIDER libc STRATEGY FILE_COPY`,
    );
    const icu16 = localeOf({ datcollate: 'C', datctype: 'C', datlocprovider: 'i', daticulocale: 'de-DE', daticurules: '&a<b' }, 'UTF8');
    expect(createEmptyDatabaseSql('snap', icu16, '')).toContain("LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' ICU_RULES '&a<b'");
    const icu17 = localeOf({ datcollate: 'C', datctype: 'C', datlocprovider: 'i', datlocale: 'fr' }, 'UTF8');
    expect(createEmptyDatabaseSql('snap', icu17, '')).toContain("ICU_LOCALE 'fr'");
    const builtin = localeOf({ datcollate: 'C', datctype: 'C', datlocprovider: 'b', datlocale: 'C.UTF-8' }, 'UTF8');
    expect(createEmptyDatabaseSql('snap', builtin, '')).toContain("LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'");
    const old = localeOf({ datcollate: "it's", datctype: 'C' }, 'LATIN1');
    expect(createEmptyDatabaseSql('snap', old, '')).toBe(`CREATE DATABASE "snap" TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'it''s' LC_CTYPE 'C'`);
  });
});

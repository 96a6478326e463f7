/**
 * pg_dump and pg_basebackup against the real server (SPEC §14). With Debian's
 * PostgreSQL 15 they fit and run; in the PostgreSQL matrix (.ci/pg-matrix: servers 16,
 * 17 and 18 with Debian's 15 clients) they are too old, and the tool says so in one
 * line naming both versions and how to get a matching program, before running them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { ExitCode, MissingProgramError } from '../src/base/errors.js';
import { readProgramOutput } from '../src/base/process.js';
import { clientTooOldMessage, majorVersion, parseVersion, serverVersion } from '../src/pg/client-version.js';
import { pgProgram } from '../src/pg/pg-bin.js';
import { dumpSchemaText } from '../src/diff/schema-dump.js';
import { runBin } from './helpers/cli.js';
import { baseEnv, makeTempDir } from './helpers/env.js';

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

describe('pg_dump and pg_basebackup against the running server', () => {
  let dir: string;
  let env: Record<string, string>;
  let url: string;

  beforeAll(async () => {
    dir = makeTempDir('db-tool-client-version-');
    env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    const init = await runBin('database', ['init'], { env });
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    const match = /PostgreSQL ready: (\S+)/.exec(init.stderr);
    if (!match?.[1]) throw new Error(`no URL in: ${init.stderr}`);
    url = match[1];
  });

  afterAll(async () => {
    await runBin('postgres-cleanup', [], { env });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('run when they fit the server; otherwise exit 127 with one line naming both versions, before doing anything', async () => {
    const config = loadConfig(baseEnv(env));
    const server = parseVersion(await serverVersion(url))!;
    for (const program of ['pg_basebackup', 'pg_dump'] as const) {
      const client = parseVersion(readProgramOutput(pgProgram(config, program), ['--version'], config.env) ?? '')!;
      const tooOld = majorVersion(client) < majorVersion(server);

      if (program === 'pg_basebackup') {
        const backup = await runBin('database', ['backup'], { env });
        const backupDir = path.join(dir, 'focus', 'postgresql-backup');
        if (tooOld) {
          expect(backup.code).toBe(ExitCode.missingProgram);
          const lines = backup.stderr.trim().split('\n');
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain(`pg_basebackup ${client} (`);
          expect(lines[0]).toContain(`PostgreSQL ${server}`);
          expect(lines[0]).toContain(`apt-get install postgresql-client-${majorVersion(server)}`);
          expect(fs.existsSync(backupDir)).toBe(false);
        } else {
          expect(backup.code, backup.stderr).toBe(0);
          expect(fs.readdirSync(backupDir)).toContain('base.tar.gz');
        }
      } else {
        const dump = dumpSchemaText(config, url);
        if (tooOld) {
          await expect(dump).rejects.toThrow(MissingProgramError);
          await expect(dump).rejects.toThrow(`pg_dump ${client} (`);
          await expect(dump).rejects.toThrow(`older than the server, PostgreSQL ${server}`);
        } else {
          expect(await dump).toContain('PostgreSQL database dump');
        }
      }
    }
  });
});

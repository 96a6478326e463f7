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
import { MissingProgramError } from '../src/base/errors.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { readProgramOutput } from '../src/base/process.js';
import { majorVersion, parseVersion, serverVersion } from '../src/pg/client-version.js';
import { pgProgram } from '../src/pg/pg-bin.js';
import { dumpSchemaText } from '../src/diff/schema-dump.js';
import { runBin } from './helpers/cli.js';
import { baseEnv, makeTempDir } from './helpers/env.js';

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

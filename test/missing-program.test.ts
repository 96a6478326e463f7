/** A required external program that is missing → exit 127 naming it and how to get it (SPEC §2). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

const dir = makeTempDir();
// A PATH with node only: PostgreSQL programs are still found in /usr/lib/postgresql, ssh is not.
const nodeOnly = path.join(dir, 'bin');
fs.mkdirSync(nodeOnly);
fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'));

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('missing program', () => {
  it('exits 127 naming ssh when pull_staging cannot find it, and writes nothing', async () => {
    const result = await runBin('database', ['pull_staging'], {
      env: {
        PATH: nodeOnly,
        LOCAL_DIR: dir,
        STAGING_SSH_HOST: 'staging',
        STAGING_DB_URL: 'postgresql://app:secret@localhost/app',
        STAGING_DUMP_TABLES: 'public.customer',
        STAGING_DUMP_FLAGS: '',
      },
    });
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/required program not found: ssh \(install OpenSSH/);
    expect(result.stderr).not.toContain('secret');
    expect(fs.existsSync(path.join(dir, 'test-data.sql'))).toBe(false);
  });
});

/** Version-bound client programs: reading versions and the one-line message (src/pg/client-version.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { clientTooOldMessage, majorVersion, parseVersion, versionBoundProgram } from '../src/pg/client-version.js';
import { debianBinDirs } from '../src/pg/pg-bin.js';
import { makeTempDir } from './helpers/env.js';

/** The newest Debian pg_dump folder on this machine (/usr/lib/postgresql/<major>/bin), if any. */
const debianPgDump = debianBinDirs().find((dir) => fs.existsSync(path.join(dir, 'pg_dump')));

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

describe.skipIf(!debianPgDump)('behind Debian\'s pg_wrapper', () => {
  it('runs the pg_dump of the server\'s major version itself (the wrapper cannot read a URL, and costs a Perl start)', async () => {
    const root = makeTempDir();
    try {
      const wrapper = path.join(root, 'share', 'postgresql-common', 'pg_wrapper');
      fs.mkdirSync(path.dirname(wrapper), { recursive: true });
      fs.writeFileSync(wrapper, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.2"\n', { mode: 0o755 });
      const bin = path.join(root, 'bin');
      fs.mkdirSync(bin);
      fs.symlinkSync(wrapper, path.join(bin, 'pg_dump'));
      const major = path.basename(path.dirname(debianPgDump!));
      await expect(versionBoundProgram(loadConfig({ PATH: bin }), 'pg_dump', `${major}.1 (Debian)`)).resolves.toBe(path.join(debianPgDump!, 'pg_dump'));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

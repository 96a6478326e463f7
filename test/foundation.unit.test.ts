/** Pure pieces of the foundation: configuration, redaction, layout, program lookup, psql errors. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterLayout, clusterUrl, MAX_SOCKET_PATH } from '../src/cluster/cluster-layout.js';
import { loadConfig, requireLocalDir, requireWorkingDir } from '../src/base/config.js';
import { findProjectRoot } from '../src/base/project-root.js';
import { isLocalUrl, parseUrl } from '../src/pg/db.js';
import { withExtraCa } from '../src/base/startup-shortcuts.js';
import { rootCertificates } from 'node:tls';
import { ExitCode, exitCodeFor } from '../src/cli/exit-codes.js';
import { colorEnabled, createLogger, redact } from '../src/base/log.js';
import { debianBinDirs, locatePgProgram } from '../src/pg/pg-bin.js';
import { shellQuote } from '../src/base/shell-quote.js';
import { describePsqlFailure, locateSqlError } from '../src/pg/psql.js';
import { makeTempDir } from './helpers/env.js';

describe('loadConfig', () => {
  it('derives defaults from LOCAL_DIR, resolving relative paths against the cwd', () => {
    const config = loadConfig({ LOCAL_DIR: 'proj' }, '/home/me');
    expect(config).toMatchObject({
      localDir: '/home/me/proj',
      workingDir: '/home/me/proj/focus/postgresql',
      databaseDir: '/home/me/proj/db',
      migrationDir: '/home/me/proj/db/migration',
      databaseSource: '/home/me/proj/db/src',
      profileDir: '/home/me/proj',
      hydrateEntrypoint: 'entrypoint.sql',
      pgUrlVar: 'PGURL',
      port: 5432,
      database: 'testdb',
      preloadLibraries: 'pg_cron',
      preloadLibrariesExplicit: false,
      disableLogging: false,
      reuse: false,
      spares: 2,
      noTty: false,
      logLevel: 'info',
      osUser: 'postgres',
      editor: 'vi',
      pager: 'less -R',
    });
  });

  it('lets every variable override its default', () => {
    const config = loadConfig({
      LOCAL_DIR: '/p', PG_WORKING_DIR: '/w', DATABASE_DIR: '/d', MIGRATION_DIR: '/m', DATABASE_SOURCE: '/s',
      PROFILE_DIR: '/prof', PG_URL_VAR: 'MY_URL', MY_URL: 'postgresql://x@/y', PG_PORT: '6000', PG_DATABASE: 'app',
      PG_SHARED_PRELOAD_LIBRARIES: '', PG_DISABLE_LOGGING: '1', PG_REUSE: 'yes', NO_TTY: '1', HECTIC_LOG: 'DEBUG',
      PG_SPARES: '0', ENVIRONMENT: 'dev', PG_OS_USER: 'pgrunner', XDG_CACHE_HOME: '/c',
    }, '/');
    expect(config).toMatchObject({
      workingDir: '/w', databaseDir: '/d', migrationDir: '/m', databaseSource: '/s', profileDir: '/prof',
      pgUrlVar: 'MY_URL', pgUrlFromVar: 'postgresql://x@/y', port: 6000, database: 'app',
      preloadLibraries: '', preloadLibrariesExplicit: true, disableLogging: true, reuse: true, spares: 0, noTty: true,
      logLevel: 'debug', dotenvFile: '/p/.env.dev', osUser: 'pgrunner', cacheDir: '/c/db-tool',
    });
    expect(loadConfig({ HECTIC_DOTENV_FILE: 'secrets.env', LOCAL_DIR: '/p', ENVIRONMENT: 'x' }, '/q').dotenvFile).toBe('/q/secrets.env');
  });

  it('rejects malformed values with one clear line', () => {
    expect(() => loadConfig({ PG_URL_VAR: 'not valid' })).toThrow(/PG_URL_VAR must be a shell identifier/);
    expect(() => loadConfig({ PG_PORT: '99999' })).toThrow(/PG_PORT/);
    expect(() => loadConfig({ HECTIC_LOG: 'loud' })).toThrow(/HECTIC_LOG/);
    for (const spares of ['-1', '10', 'two', '1.5']) {
      expect(() => loadConfig({ PG_SPARES: spares })).toThrow(new RegExp(`^PG_SPARES must be a number of spare clusters from 0 to 9, got '${spares}'$`));
    }
  });

  it('reads every yes/no variable alike: 0, false, no, off and empty mean no', () => {
    for (const no of ['0', 'false', 'FALSE', 'no', 'off', '']) {
      const config = loadConfig({ PG_REUSE: no, PG_DISABLE_LOGGING: no, NO_TTY: no }, '/');
      expect([config.reuse, config.disableLogging, config.noTty], `'${no}'`).toEqual([false, false, false]);
    }
    for (const yes of ['1', 'true', 'True', 'yes', 'on']) {
      const config = loadConfig({ PG_REUSE: yes, PG_DISABLE_LOGGING: yes, NO_TTY: yes }, '/');
      expect([config.reuse, config.disableLogging, config.noTty], `'${yes}'`).toEqual([true, true, true]);
    }
    expect(() => loadConfig({ PG_REUSE: 'maybe' }, '/')).toThrow(/PG_REUSE must be yes or no .*got 'maybe'/);
    expect(loadConfig({ FORCE_COLOR: 'false' }, '/').forceColor).toBe(false);
    expect(loadConfig({ FORCE_COLOR: '2' }, '/').forceColor).toBe(true);
  });

  it('finds the project as git finds .git: the nearest folder at or above the cwd holding db/ or focus/', () => {
    const root = makeTempDir('db-tool-find-');
    try {
      const project = path.join(root, 'project');
      const deep = path.join(project, 'src', 'deep');
      fs.mkdirSync(deep, { recursive: true });
      fs.mkdirSync(path.join(project, 'db'));
      expect(findProjectRoot(deep)).toBe(project);
      const config = loadConfig({}, deep);
      expect(config).toMatchObject({ localDir: project, localDirFrom: 'found', workingDir: path.join(project, 'focus', 'postgresql'), migrationDir: path.join(project, 'db', 'migration') });
      // LOCAL_DIR wins over what is found.
      expect(loadConfig({ LOCAL_DIR: root }, deep).localDir).toBe(root);
      // A nested project with only focus/ is nearer.
      fs.mkdirSync(path.join(project, 'src', 'focus'));
      expect(findProjectRoot(deep)).toBe(path.join(project, 'src'));
      // A file named db is not a project.
      const lone = path.join(root, 'lone');
      fs.mkdirSync(lone);
      fs.writeFileSync(path.join(lone, 'db'), '');
      expect(findProjectRoot(lone) === lone).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('says to cd into the project or export LOCAL_DIR when none is found', () => {
    const config = loadConfig({}, '/proc/self');
    expect(() => requireLocalDir(config)).toThrow(/cd into the project .*export LOCAL_DIR=\$PWD/);
    expect(() => requireWorkingDir(config)).toThrow(/cd into the project .*export LOCAL_DIR=\$PWD/);
  });

  it('needs PG_WORKING_DIR or LOCAL_DIR with exit 3', () => {
    try {
      requireWorkingDir(loadConfig({}, '/proc/self'));
      expect.unreachable();
    } catch (error) {
      expect(exitCodeFor(error)).toBe(ExitCode.missingArgument);
    }
  });
});

describe('NODE_EXTRA_CA_CERTS handed over by the launchers', () => {
  it('comes back to child programs as the user set it', () => {
    const config = loadConfig({ DB_TOOL_EXTRA_CA_CERTS: '/ca.pem', NODE_EXTRA_CA_CERTS: '' });
    expect(config.extraCaCerts).toBe('/ca.pem');
    expect(config.env.NODE_EXTRA_CA_CERTS).toBe('/ca.pem');
    expect(config.env).not.toHaveProperty('DB_TOOL_EXTRA_CA_CERTS');
  });

  it('leaves no trace when the user had none', () => {
    const config = loadConfig({ DB_TOOL_EXTRA_CA_CERTS: '', NODE_EXTRA_CA_CERTS: '' });
    expect(config.extraCaCerts).toBeUndefined();
    expect(config.env).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
    expect(config.env).not.toHaveProperty('DB_TOOL_EXTRA_CA_CERTS');
  });

  it('is read as it is when Node was started without a launcher', () => {
    const config = loadConfig({ NODE_EXTRA_CA_CERTS: '/ca.pem' });
    expect(config.extraCaCerts).toBe('/ca.pem');
    expect(config.env.NODE_EXTRA_CA_CERTS).toBe('/ca.pem');
  });

  it('adds its authorities to TLS connections that name none of their own', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-ca-'));
    try {
      const file = path.join(dir, 'ca.pem');
      fs.writeFileSync(file, 'PEM');
      expect(await withExtraCa(false, file)).toBe(false);
      expect(await withExtraCa(true, undefined)).toBe(true);
      expect(await withExtraCa(true, file)).toEqual({ ca: [...rootCertificates, 'PEM'] });
      expect(await withExtraCa({ rejectUnauthorized: true }, file)).toEqual({ rejectUnauthorized: true, ca: [...rootCertificates, 'PEM'] });
      expect(await withExtraCa({ ca: 'OWN' }, file)).toEqual({ ca: 'OWN' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redact', () => {
  it('hides passwords in URLs, conninfo strings and PGPASSWORD', () => {
    expect(redact('postgresql://app:s3cr3t@db.example.com:5432/x')).toBe('postgresql://app:***@db.example.com:5432/x');
    expect(redact("host=db password='a b' user=x")).toBe('host=db password=*** user=x');
    expect(redact('PGPASSWORD=hunter2 psql')).toBe('PGPASSWORD=*** psql');
    expect(redact('postgresql://app@/db?host=/tmp')).toBe('postgresql://app@/db?host=/tmp');
  });

  it('is applied to every log line', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', sink: { write: (t: string) => lines.push(t) } });
    log.info('connecting to postgres://u:pw@h/db');
    log.debug('not shown at info');
    expect(lines).toEqual(['connecting to postgres://u:***@h/db\n']);
  });

  it('colours only on a TTY, honouring NO_COLOR and FORCE_COLOR', () => {
    expect(colorEnabled(false)).toBe(false);
    expect(colorEnabled(true)).toBe(true);
    expect(colorEnabled(true, true)).toBe(false);
    expect(colorEnabled(false, false, true)).toBe(true);
  });
});

describe('cluster layout', () => {
  it('puts data and socket below the working dir and builds the URL', () => {
    const layout = clusterLayout(loadConfig({ PG_WORKING_DIR: '/w' }));
    expect(layout).toMatchObject({ dataDir: '/w/data', sockDir: '/w/sock', logDir: '/w/data/log', sockDirRelocated: false });
    expect(clusterUrl('me', layout)).toBe('postgresql://me@/testdb?host=/w/sock&port=5432');
  });

  it('moves the socket dir when the socket path would exceed the OS limit, deterministically', () => {
    const long = `/${'x'.repeat(MAX_SOCKET_PATH)}`;
    const a = clusterLayout(loadConfig({ PG_WORKING_DIR: long }));
    const b = clusterLayout(loadConfig({ PG_WORKING_DIR: long }));
    expect(a.sockDirRelocated).toBe(true);
    expect(a.sockDir).toBe(b.sockDir);
    expect(Buffer.byteLength(path.join(a.sockDir, '.s.PGSQL.5432'))).toBeLessThanOrEqual(MAX_SOCKET_PATH);
  });
});

describe('URLs', () => {
  it('accepts socket and local URLs as local, others as remote', () => {
    expect(isLocalUrl('postgresql://u@/db?host=/tmp/s')).toBe(true);
    expect(isLocalUrl('postgresql://u@localhost/db')).toBe(true);
    expect(isLocalUrl('postgresql://u@127.0.0.1:5432/db')).toBe(true);
    expect(isLocalUrl('postgresql://u@db.example.com/db')).toBe(false);
  });

  it('rejects a malformed URL with a message that hides the password', () => {
    expect(() => parseUrl('mysql://u:pw@h/db')).toThrow(/not a PostgreSQL URL .*u:\*\*\*@h/);
  });
});

describe('program lookup', () => {
  it('prefers PG_BIN_DIR, then PATH', () => {
    const dir = makeTempDir();
    try {
      fs.writeFileSync(path.join(dir, 'psql'), '#!/bin/sh\n', { mode: 0o755 });
      expect(locatePgProgram(loadConfig({ PG_BIN_DIR: dir, PATH: '/usr/bin' }), 'psql')).toBe(path.join(dir, 'psql'));
      expect(locatePgProgram(loadConfig({ PATH: dir }), 'psql')).toBe(path.join(dir, 'psql'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the newest psql itself where PATH has Debian\'s pg_wrapper (its choice for psql, without its Perl)', () => {
    const root = makeTempDir();
    try {
      const common = path.join(root, 'share', 'postgresql-common');
      const usrBin = path.join(root, 'bin');
      fs.mkdirSync(common, { recursive: true });
      fs.mkdirSync(usrBin);
      fs.writeFileSync(path.join(common, 'pg_wrapper'), '#!/usr/bin/perl\n', { mode: 0o755 });
      for (const name of ['psql', 'pg_dump']) fs.symlinkSync(path.join(common, 'pg_wrapper'), path.join(usrBin, name));
      const lib = path.join(root, 'lib', 'postgresql');
      for (const major of ['15', '16']) {
        fs.mkdirSync(path.join(lib, major, 'bin'), { recursive: true });
        for (const name of ['psql', 'pg_dump']) fs.writeFileSync(path.join(lib, major, 'bin', name), '#!/bin/sh\n', { mode: 0o755 });
      }
      const config = loadConfig({ PATH: usrBin });
      expect(locatePgProgram(config, 'psql', lib)).toBe(path.join(lib, '16', 'bin', 'psql'));
      // pg_dump follows the cluster's version in pg_wrapper: left to it when that is unknown…
      expect(locatePgProgram(config, 'pg_dump', lib)).toBe(path.join(usrBin, 'pg_dump'));
      // …else the server's version, or the newest where that is not installed (the wrapper cannot read a URL).
      expect(locatePgProgram(config, 'pg_dump', lib, 15)).toBe(path.join(lib, '15', 'bin', 'pg_dump'));
      expect(locatePgProgram(config, 'pg_dump', lib, 17)).toBe(path.join(lib, '16', 'bin', 'pg_dump'));
      // psql is always the newest, whatever the server.
      expect(locatePgProgram(config, 'psql', lib, 15)).toBe(path.join(lib, '16', 'bin', 'psql'));
      // No client installed behind it: the wrapper says so itself.
      expect(locatePgProgram(config, 'psql', path.join(root, 'none'))).toBe(path.join(usrBin, 'psql'));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('orders Debian bin folders newest first', () => {
    const root = makeTempDir();
    try {
      for (const major of ['9.6', '13', '15']) fs.mkdirSync(path.join(root, major, 'bin'), { recursive: true });
      expect(debianBinDirs(root)).toEqual([path.join(root, '15', 'bin'), path.join(root, '13', 'bin'), path.join(root, '9.6', 'bin')]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and quotes the rest for a POSIX shell', () => {
    expect(shellQuote('abc-1.2/x')).toBe('abc-1.2/x');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });
});

describe('locateSqlError', () => {
  it('finds file, line and the offending source line in psql output', () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, 'a.sql');
      fs.writeFileSync(file, 'select 1;\nselec 2;\n');
      const located = locateSqlError(`psql:${file}:2: ERROR:  syntax error at or near "selec"\nLINE 1: selec 2;\n`);
      expect(located).toEqual({ file, line: 2, message: 'syntax error at or near "selec"', source: 'selec 2;' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('describePsqlFailure', () => {
  it('says the error once: where, the offending line and the server context, not psql\'s raw block', () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, 'b.sql');
      fs.writeFileSync(file, 'select 1;\ninsert into t values (1);\n');
      const stderr = [
        'psql:' + file + ':2: NOTICE:  something harmless',
        'psql:' + file + ':2: ERROR:  duplicate key value violates unique constraint "t_pkey"',
        'DETAIL:  Key (id)=(1) already exists.',
        'HINT:  Use another id.',
        'LINE 1: insert into t values (1);',
        '        ^',
        '',
      ].join('\n');
      const failure = describePsqlFailure({ code: 3, stderr });
      expect(failure.where).toBe(`${file}:2: duplicate key value violates unique constraint "t_pkey"`);
      expect(failure.details).toBe('  2 | insert into t values (1);\nDETAIL:  Key (id)=(1) already exists.\nHINT:  Use another id.');
      expect(failure.details).not.toMatch(/ERROR|LINE 1|NOTICE/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to psql\'s last line when it names no place', () => {
    expect(describePsqlFailure({ code: 2, stderr: 'psql: error: connection refused\n' })).toEqual({
      where: 'psql: error: connection refused',
      location: undefined,
      details: undefined,
    });
    expect(describePsqlFailure({ code: 2, stderr: '' }).where).toBe('psql exited 2');
  });
});

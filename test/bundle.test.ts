/**
 * The hectic bundle as a whole: files, versioning, idempotence, the 0.1.0 upgrade,
 * version conflicts, concurrency, applying by hand with psql, and hectic.migration.
 * Runs against a private cluster made by postgres-init; every test group uses its own
 * database.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILES,
  applyBundle,
  bundleFingerprint,
  holdsCurrentBundle,
  bundleFileSql,
  bundleSql,
  bundleVersion,
  planBundle,
  sqlDir,
} from '../src/deploy/bundle.js';
import { InternalError } from '../src/base/errors.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { createLogger, silentLogger, type Logger } from '../src/base/log.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { clientConfig, TestClients } from './helpers/pg-clients.js';
import { PG_DUMP_FITS_SERVER } from './helpers/pg-versions.js';
import { waitFor } from './helpers/project.js';

const run = promisify(execFile);

let cluster: TestCluster;
let admin: pg.Client;
const clients = new TestClients();
let databaseCounter = 0;

function connection(database: string): pg.ClientConfig {
  return clientConfig(cluster.url, database);
}

/** A connected client on `database`, closed in afterAll. */
function connectTo(database: string): Promise<pg.Client> {
  return clients.connect(cluster.url, database);
}

/** A brand-new, empty database of the test cluster, and a client on it. */
async function freshDatabase(label: string): Promise<{ name: string; client: pg.Client }> {
  databaseCounter += 1;
  const name = `bundle_${label}_${databaseCounter}`;
  await admin.query(`CREATE DATABASE ${name}`);
  return { name, client: await connectTo(name) };
}

/** A PostgreSQL program matching the server's major version (psql, pg_dump). */
async function pgProgram(name: string): Promise<string> {
  const major = Math.floor(Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  for (const dir of [process.env.PG_BIN_DIR, `/usr/lib/postgresql/${major}/bin`]) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return name; // on PATH
}

function connectionArgs(database: string): string[] {
  const config = connection(database);
  return ['-h', String(config.host), '-p', String(config.port ?? 5432), '-U', String(config.user), '-d', database];
}

/** Records everything logged, for assertions on notices. */
function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'trace', noColor: true, sink: { write: (text: string) => lines.push(text) } });
  return { log, lines };
}

/** Counts and identities of every bundle object, to prove a re-apply changes nothing. */
async function bundleSnapshot(client: pg.Client): Promise<Record<string, unknown>> {
  const { rows } = await client.query(`
    SELECT
      (SELECT count(*) FROM pg_class WHERE relnamespace = 'hectic'::regnamespace)::int        AS relations,
      (SELECT count(*) FROM pg_proc WHERE pronamespace = 'hectic'::regnamespace)::int         AS functions,
      (SELECT count(*) FROM pg_type WHERE typnamespace = 'hectic'::regnamespace AND typtype = 'd')::int AS domains,
      (SELECT count(*) FROM pg_constraint WHERE connamespace = 'hectic'::regnamespace)::int   AS constraints,
      (SELECT string_agg(t.oid::text || ':' || t.tgname, ',' ORDER BY t.oid)
         FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'hectic'::regnamespace AND NOT t.tgisinternal)               AS triggers,
      (SELECT string_agg(oid::text || ':' || evtname || ':' || array_to_string(evttags, '|'), ',' ORDER BY evtname)
         FROM pg_event_trigger)                                                               AS event_triggers,
      (SELECT count(*) FROM pg_extension WHERE extname = 'pgcrypto')::int                     AS pgcrypto,
      (SELECT json_agg(v ORDER BY name) FROM hectic.version AS v)                             AS version_rows
  `);
  return rows[0] as Record<string, unknown>;
}

/** `pg_dump --schema-only` of the hectic schema plus the event triggers, without volatile lines. */
async function hecticSchemaDump(database: string): Promise<string> {
  const { stdout } = await run(await pgProgram('pg_dump'), [
    ...connectionArgs(database), '--schema-only', '--no-owner', '--schema=hectic',
  ]);
  return stdout
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line) && !line.startsWith('-- Dumped'))
    .join('\n');
}

/** The shell tool's schema, hectic 0.1.0, built by hand. */
const HECTIC_0_1_0 = `
  CREATE SCHEMA hectic;
  CREATE TABLE hectic.version (name text PRIMARY KEY, version text, installed_at timestamptz DEFAULT now());
  INSERT INTO hectic.version (name, version) VALUES ('hectic', '0.1.0');
  CREATE TABLE hectic.secret (id serial PRIMARY KEY, key text UNIQUE NOT NULL, value text NOT NULL);
  INSERT INTO hectic.secret (key, value) VALUES ('API_TOKEN', 'plain-token-0f3c9a'), ('DB_PASSWORD', 'hunter2-plain-77');
  CREATE TABLE hectic.migration (
    id serial PRIMARY KEY,
    name text UNIQUE NOT NULL,
    hash text UNIQUE NOT NULL,
    applied_at timestamptz DEFAULT now()
  );
  INSERT INTO hectic.migration (name, hash, applied_at) VALUES
    ('20240101000000-first', repeat('AB', 32), '2024-01-01T00:00:00Z'),
    ('20240102000000-second', repeat('cd', 32), '2024-01-02T00:00:00Z');
  CREATE TABLE hectic.created_at (created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE hectic.updated_at (updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE hectic.immutable ();
  CREATE TABLE public.thing (id int) INHERITS (hectic.created_at);
  INSERT INTO public.thing (id) VALUES (1), (2);
`;

const SHA_A = 'a'.repeat(64);
/** The files of the previous release, to prove the in-place upgrade from it. */
const BUNDLE_0_2_0 = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'bundle-0.2.0');
const SHA_B = '0123456789abcdef'.repeat(4);

beforeAll(async () => {
  cluster = await startTestCluster();
  const params = parse(cluster.url);
  admin = new pg.Client(connection(params.database ?? 'postgres'));
  await admin.connect();
  admin.on('error', () => undefined);
  // Secrets need the key; clusters made by postgres-init have it.
  const key = (await admin.query("SELECT current_setting('hectic.secret_key', true) AS key")).rows[0].key as string | null;
  if (!key) {
    await admin.query("SET hectic.secret_key = ''"); // ALTER SYSTEM knows only known names before PostgreSQL 17
    await admin.query(`ALTER SYSTEM SET hectic.secret_key = '${'k'.repeat(8)}${Date.now().toString(16)}'`);
    await admin.query('RESET hectic.secret_key');
    await admin.query('SELECT pg_reload_conf()');
    // New sessions see the key once the server has reread its configuration.
    const keySeen = async (): Promise<boolean> => {
      const probe = new pg.Client(connection(params.database ?? 'postgres'));
      await probe.connect();
      try {
        return Boolean((await probe.query("SELECT current_setting('hectic.secret_key', true) AS key")).rows[0].key);
      } finally {
        await probe.end();
      }
    };
    await waitFor(keySeen, 90_000, 'the server to reload hectic.secret_key');
  }
});

afterAll(async () => {
  await clients.closeAll();
  await admin?.end().catch(() => undefined);
  await cluster?.stop();
});

describe('bundle files', () => {
  it('lists the four files in order, all present in sqlDir()', () => {
    expect(BUNDLE_FILES).toEqual(['hectic-version.sql', 'hectic-secret.sql', 'hectic-migration.sql', 'hectic-inheritance.sql']);
    for (const name of [...BUNDLE_FILES, 'HECTIC_VERSION', 'README.md']) {
      expect(fs.existsSync(path.join(sqlDir(), name)), name).toBe(true);
    }
  });

  it('reads the version from sql/HECTIC_VERSION', () => {
    expect(bundleVersion()).toBe('0.3.0');
    expect(fs.readFileSync(path.join(sqlDir(), 'hectic-version.sql'), 'utf8')).toContain('@HECTIC_VERSION@');
    expect(bundleFileSql('hectic-version.sql')).not.toContain('@HECTIC_VERSION@');
    expect(bundleFileSql('hectic-version.sql')).toContain("'0.3.0'");
  });

  it('bundleSql() concatenates the files in order, each after a file comment', () => {
    const sql = bundleSql();
    const positions = BUNDLE_FILES.map((name) => sql.indexOf(`-- file: ${name}\n`));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(sql).not.toContain('@HECTIC_VERSION@');
  });

  it('has no transaction control inside the files (the caller owns the transaction)', () => {
    for (const name of BUNDLE_FILES) {
      const statements = bundleFileSql(name)
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n');
      expect(statements, name).not.toMatch(/^\s*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\s*;/im);
    }
  });
});

describe('planBundle (version comparison)', () => {
  it('installs, keeps, upgrades and refuses', () => {
    expect(planBundle(null, '0.2.0')).toBe('installed');
    expect(planBundle('0.2.0', '0.2.0')).toBe('unchanged');
    expect(planBundle('0.1.0', '0.2.0')).toBe('upgraded');
    expect(planBundle('0.1.9', '0.2.0')).toBe('upgraded');
    expect(planBundle('0.9.0', '0.10.0')).toBe('upgraded'); // numeric, not text, comparison
    expect(() => planBundle('0.10.0', '0.9.0')).toThrow(InternalError);
    expect(() => planBundle('9.9.9', '0.2.0')).toThrow(/9\.9\.9.*0\.2\.0/);
    expect(() => planBundle('banana', '0.2.0')).toThrow(/unknown version "banana"/);
    expect(() => planBundle('0.2.0-rc1', '0.2.0')).toThrow(InternalError);
  });
});

describe('applyBundle', () => {
  it('installs into an empty database, then a second apply changes nothing', async () => {
    const { client } = await freshDatabase('idem');
    const first = await applyBundle(client, silentLogger);
    expect(first).toEqual({ previousVersion: null, version: '0.3.0', action: 'installed' });
    const before = await bundleSnapshot(client);

    const started = performance.now();
    const second = await applyBundle(client, silentLogger);
    const elapsed = performance.now() - started;
    expect(second).toEqual({ previousVersion: '0.3.0', version: '0.3.0', action: 'unchanged' });
    expect(await bundleSnapshot(client)).toEqual(before);
    expect(elapsed).toBeLessThan(5_000);

    expect(before).toMatchObject({ domains: 2, pgcrypto: 1 });
    expect(before.version_rows).toHaveLength(1);
    expect((before.event_triggers as string).split(',')).toHaveLength(3);
    const { rows } = await client.query("SELECT count(*)::int AS n FROM hectic.version WHERE name = 'hectic'");
    expect(rows[0].n).toBe(1);
  });

  it('creates every public object of SPEC §6', async () => {
    const { client } = await freshDatabase('objects');
    await applyBundle(client, silentLogger);
    const { rows } = await client.query(`
      SELECT to_regclass('hectic.version') IS NOT NULL AS version,
             to_regclass('hectic.secret') IS NOT NULL AS secret,
             to_regclass('hectic.migration') IS NOT NULL AS migration,
             to_regclass('hectic.created_at') IS NOT NULL AS created_at,
             to_regclass('hectic.updated_at') IS NOT NULL AS updated_at,
             to_regclass('hectic.immutable') IS NOT NULL AS immutable,
             to_regtype('hectic.migration_name') IS NOT NULL AS migration_name,
             to_regtype('hectic.sha256') IS NOT NULL AS sha256,
             to_regprocedure('hectic.load_secrets_from_env(text)') IS NOT NULL AS load_secrets_from_env,
             to_regprocedure('hectic.get_secret(text)') IS NOT NULL AS get_secret,
             to_regprocedure('hectic.set_updated_at()') IS NOT NULL AS set_updated_at,
             to_regprocedure('hectic.block_immutable_dml()') IS NOT NULL AS block_immutable_dml,
             (SELECT array_agg(evtname::text ORDER BY evtname) FROM pg_event_trigger) AS event_triggers,
             (SELECT format_type(atttypid, NULL) FROM pg_attribute
               WHERE attrelid = 'hectic.secret'::regclass AND attname = 'value') AS secret_value_type
    `);
    expect(rows[0]).toEqual({
      version: true, secret: true, migration: true, created_at: true, updated_at: true, immutable: true,
      migration_name: true, sha256: true, load_secrets_from_env: true, get_secret: true,
      set_updated_at: true, block_immutable_dml: true,
      event_triggers: ['hectic_attach_immutable_triggers', 'hectic_attach_updated_at_trigger', 'hectic_enforce_created_at_inheritance'],
      secret_value_type: 'bytea',
    });
  });

  // Runs pg_dump itself: stays on a server its pg_dump can dump (PostgreSQL 15 in CI, not the 16-18 matrix).
  it.skipIf(!PG_DUMP_FITS_SERVER)('upgrades 0.1.0 in place: keeps and encrypts secrets, keeps rows, allows duplicate hashes', async () => {
    const { name, client } = await freshDatabase('upgrade');
    await client.query(HECTIC_0_1_0);
    const { log, lines } = recordingLogger();

    const result = await applyBundle(client, log);
    expect(result).toEqual({ previousVersion: '0.1.0', version: '0.3.0', action: 'upgraded' });
    expect(lines.join('')).toContain('hectic bundle upgraded from 0.1.0 to 0.3.0');
    expect(lines.join('')).toContain('encrypted 2 existing secret(s)');

    const version = await client.query("SELECT version FROM hectic.version WHERE name = 'hectic'");
    expect(version.rows).toEqual([{ version: '0.3.0' }]);

    // Secrets: same keys and plaintexts through get_secret, ciphertext at rest.
    const secrets = await client.query('SELECT key, hectic.get_secret(key) AS plain FROM hectic.secret ORDER BY key');
    expect(secrets.rows).toEqual([
      { key: 'API_TOKEN', plain: 'plain-token-0f3c9a' },
      { key: 'DB_PASSWORD', plain: 'hunter2-plain-77' },
    ]);
    const raw = await client.query('SELECT s::text AS row FROM hectic.secret AS s');
    for (const { row } of raw.rows as { row: string }[]) {
      expect(row).not.toContain('plain-token-0f3c9a');
      expect(row).not.toContain('hunter2-plain-77');
      expect(row).not.toContain(Buffer.from('hunter2-plain-77').toString('hex'));
    }

    // Migrations: rows kept (hash lower-cased), hash no longer unique.
    const migrations = await client.query('SELECT name, hash, applied_at, baseline FROM hectic.migration ORDER BY id');
    expect(migrations.rows.map((row) => [row.name, row.hash, row.baseline])).toEqual([
      ['20240101000000-first', 'ab'.repeat(32), false],
      ['20240102000000-second', 'cd'.repeat(32), false],
    ]);
    expect((migrations.rows[0].applied_at as Date).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    await client.query("INSERT INTO hectic.migration (name, hash) VALUES ('20240103000000-same-content', $1)", ['ab'.repeat(32)]);
    const types = await client.query(`
      SELECT attname, format_type(atttypid, NULL) AS type FROM pg_attribute
       WHERE attrelid = 'hectic.migration'::regclass AND attname IN ('name', 'hash') ORDER BY attname`);
    expect(types.rows).toEqual([
      { attname: 'hash', type: 'hectic.sha256' },
      { attname: 'name', type: 'hectic.migration_name' },
    ]);

    // User data untouched.
    expect((await client.query('SELECT count(*)::int AS n FROM public.thing')).rows[0].n).toBe(2);

    // The upgraded schema is exactly a fresh install's (database diff relies on it).
    const fresh = await freshDatabase('upgrade_ref');
    await applyBundle(fresh.client, silentLogger);
    expect(await hecticSchemaDump(name)).toBe(await hecticSchemaDump(fresh.name));

    // And the next apply is a no-op.
    expect((await applyBundle(client, silentLogger)).action).toBe('unchanged');
  });

  // Compares schemas with pg_dump: stays on the PostgreSQL whose pg_dump fits (see helpers/pg-versions.ts).
  it.skipIf(!PG_DUMP_FITS_SERVER)('upgrades 0.2.0 in place: migration rows kept (not baseline), faster event triggers, same schema as a fresh install', async () => {
    const { name, client } = await freshDatabase('upgrade020');
    for (const file of BUNDLE_FILES) {
      const sql = fs.readFileSync(path.join(BUNDLE_0_2_0, file), 'utf8').replaceAll('@HECTIC_VERSION@', '0.2.0');
      await client.query(sql);
    }
    await client.query(`INSERT INTO hectic.migration (name, hash) VALUES ('20240101000000-first', '${SHA_A}')`);
    await client.query('CREATE TABLE public.kept (id int) INHERITS (hectic.created_at, hectic.updated_at)');
    const { log, lines } = recordingLogger();

    expect(await applyBundle(client, log)).toEqual({ previousVersion: '0.2.0', version: '0.3.0', action: 'upgraded' });
    expect(lines.join('')).toContain('hectic bundle upgraded from 0.2.0 to 0.3.0');
    const rows = await client.query('SELECT name::text, baseline FROM hectic.migration');
    expect(rows.rows).toEqual([{ name: '20240101000000-first', baseline: false }]);
    // The new event trigger functions are in place and still do their work.
    await client.query('CREATE TABLE public.later (id int) INHERITS (hectic.created_at, hectic.updated_at)');
    const triggers = await client.query("SELECT tgrelid::regclass::text AS t FROM pg_trigger WHERE tgname = 'hectic_set_updated_at' ORDER BY 1");
    expect(triggers.rows.map((row) => row.t)).toEqual(['kept', 'later']);
    await expect(client.query('CREATE TABLE public.orphan (id int)')).rejects.toThrow(/must inherit hectic.created_at/);

    const fresh = await freshDatabase('upgrade020_ref');
    await applyBundle(fresh.client, silentLogger);
    expect(await hecticSchemaDump(name)).toBe(await hecticSchemaDump(fresh.name));
    expect((await applyBundle(client, silentLogger)).action).toBe('unchanged');
  });

  it('refuses to upgrade 0.1.0 plaintext secrets without a key, changing nothing', async () => {
    const { client } = await freshDatabase('nokey');
    await client.query(HECTIC_0_1_0);
    await client.query("SET hectic.secret_key = ''"); // this session has no key

    const error = await applyBundle(client, silentLogger).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalError);
    expect(exitCodeFor(error)).toBe(13);
    expect((error as InternalError).message).toMatch(/hectic-secret\.sql.*2 plaintext secret\(s\).*hectic\.secret_key is not set/);
    expect((error as InternalError).details).toContain('ALTER SYSTEM SET hectic.secret_key');

    await client.query('RESET hectic.secret_key');
    const state = await client.query(`
      SELECT (SELECT version FROM hectic.version) AS version,
             (SELECT format_type(atttypid, NULL) FROM pg_attribute
               WHERE attrelid = 'hectic.secret'::regclass AND attname = 'value') AS value_type,
             (SELECT string_agg(value::text, ',' ORDER BY key) FROM hectic.secret) AS secrets,
             (SELECT count(*)::int FROM pg_event_trigger) AS event_triggers`);
    expect(state.rows[0]).toEqual({
      version: '0.1.0', value_type: 'text', secrets: 'plain-token-0f3c9a,hunter2-plain-77', event_triggers: 0,
    });

    // With the key back, the same database upgrades.
    expect((await applyBundle(client, silentLogger)).action).toBe('upgraded');
  });

  it('refuses a newer or unknown installed version with InternalError (exit 13), changing nothing', async () => {
    const { client } = await freshDatabase('newer');
    await applyBundle(client, silentLogger);
    // Damage the install so "nothing changed" is observable: a successful apply would repair it.
    await client.query(`
      UPDATE hectic.version SET version = '9.9.9' WHERE name = 'hectic';
      DROP EVENT TRIGGER hectic_attach_updated_at_trigger;
      DROP FUNCTION hectic.get_secret(text);`);

    const error = await applyBundle(client, silentLogger).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalError);
    expect(exitCodeFor(error)).toBe(13);
    expect((error as InternalError).message).toContain('9.9.9');
    expect((error as InternalError).message).toContain('0.3.0');

    const state = async (): Promise<unknown> =>
      (await client.query(`
        SELECT (SELECT version FROM hectic.version WHERE name = 'hectic') AS version,
               to_regprocedure('hectic.get_secret(text)') IS NOT NULL AS get_secret,
               (SELECT count(*)::int FROM pg_event_trigger) AS event_triggers`)).rows[0];
    expect(await state()).toEqual({ version: '9.9.9', get_secret: false, event_triggers: 2 });

    await client.query("UPDATE hectic.version SET version = 'banana' WHERE name = 'hectic'");
    await expect(applyBundle(client, silentLogger)).rejects.toThrow(/unknown version "banana"/);
    expect(await state()).toEqual({ version: 'banana', get_secret: false, event_triggers: 2 });

    // Back at our version, an apply repairs the damage.
    await client.query("UPDATE hectic.version SET version = '0.3.0' WHERE name = 'hectic'");
    expect((await applyBundle(client, silentLogger)).action).toBe('unchanged');
    expect(await state()).toEqual({ version: '0.3.0', get_secret: true, event_triggers: 3 });
  });

  it('holdsCurrentBundle (migrate\'s check) is true only for exactly this bundle: version, fingerprint, tables, event triggers', async () => {
    const { client } = await freshDatabase('ensure');
    expect(await holdsCurrentBundle(client)).toBe(false);
    expect((await applyBundle(client, silentLogger)).action).toBe('installed');
    const row = await client.query("SELECT fingerprint FROM hectic.version WHERE name = 'hectic'");
    expect(row.rows).toEqual([{ fingerprint: bundleFingerprint() }]);
    expect(bundleFingerprint()).toMatch(/^[0-9a-f]{64}$/);
    expect(await holdsCurrentBundle(client)).toBe(true);

    // A dropped helper is not looked at (migrator init and hydrate repair it)…
    await client.query('DROP FUNCTION hectic.get_secret(text)');
    expect(await holdsCurrentBundle(client)).toBe(true);
    // …but a missing event trigger or an unknown fingerprint (applied by hand) is.
    await client.query('DROP EVENT TRIGGER hectic_attach_immutable_triggers');
    expect(await holdsCurrentBundle(client)).toBe(false);
    await applyBundle(client, silentLogger);
    expect(await holdsCurrentBundle(client)).toBe(true);
    await client.query('UPDATE hectic.version SET fingerprint = NULL');
    expect(await holdsCurrentBundle(client)).toBe(false);
  });

  it('serialises concurrent appliers', async () => {
    const { name, client } = await freshDatabase('concurrent');
    const other = await connectTo(name);
    const results = await Promise.all([applyBundle(client, silentLogger), applyBundle(other, silentLogger)]);
    expect(results.map((result) => result.action).sort()).toEqual(['installed', 'unchanged']);
    expect((await client.query('SELECT count(*)::int AS n FROM hectic.version')).rows[0].n).toBe(1);
  });

  it('refuses to run inside an open transaction', async () => {
    const { client } = await freshDatabase('intx');
    await client.query('BEGIN');
    await expect(applyBundle(client, silentLogger)).rejects.toThrow(/inside an open transaction/);
    await client.query('ROLLBACK');
    expect((await client.query("SELECT to_regclass('hectic.version') AS t")).rows[0].t).toBeNull();
  });

  it('wraps a PostgreSQL error in InternalError naming the file and rolls everything back', async () => {
    const { client } = await freshDatabase('sqlerror');
    // A user object in the way of the migration file: hectic.migration as a view.
    await client.query('CREATE SCHEMA hectic; CREATE VIEW hectic.migration AS SELECT 1 AS id');
    const error = await applyBundle(client, silentLogger).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(/^hectic bundle: hectic-migration\.sql/);
    expect((await client.query("SELECT to_regclass('hectic.version') AS t")).rows[0].t).toBeNull();
  });
});

describe('applying the files by hand with psql', () => {
  it('works with psql -1 -f in order, and db-tool then sees the same version', async () => {
    const { name, client } = await freshDatabase('psql');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hectic-psql-'));
    try {
      const versionFile = path.join(tmp, 'hectic-version.sql');
      fs.writeFileSync(versionFile, fs.readFileSync(path.join(sqlDir(), 'hectic-version.sql'), 'utf8').replaceAll('@HECTIC_VERSION@', bundleVersion()));
      const files = [versionFile, ...BUNDLE_FILES.slice(1).map((file) => path.join(sqlDir(), file))];
      const psql = await pgProgram('psql');
      const args = [...connectionArgs(name), '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', ...files.flatMap((file) => ['-f', file])];
      await run(psql, args);
      await run(psql, args); // twice: idempotent by hand too
      expect(await applyBundle(client, silentLogger)).toEqual({ previousVersion: '0.3.0', version: '0.3.0', action: 'unchanged' });

      // The raw file refuses to run with its placeholder unsubstituted.
      await expect(run(psql, [...connectionArgs(name), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', path.join(sqlDir(), 'hectic-version.sql')]))
        .rejects.toMatchObject({ stderr: expect.stringContaining('placeholder was not substituted') });

      // The SQL guard refuses a newer version even without db-tool.
      await client.query("UPDATE hectic.version SET version = '9.9.9'");
      await expect(run(psql, [...connectionArgs(name), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', versionFile]))
        .rejects.toMatchObject({ stderr: expect.stringContaining('newer version 9.9.9, this bundle is 0.3.0') });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the secret, migration and inheritance files work without the version file', async () => {
    const { name, client } = await freshDatabase('noversion');
    const psql = await pgProgram('psql');
    await run(psql, [
      ...connectionArgs(name), '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1',
      ...BUNDLE_FILES.slice(1).flatMap((file) => ['-f', path.join(sqlDir(), file)]),
    ]);
    expect((await client.query("SELECT to_regclass('hectic.version') AS t")).rows[0].t).toBeNull();
    expect(await applyBundle(client, silentLogger)).toEqual({ previousVersion: null, version: '0.3.0', action: 'installed' });
  });
});

describe('hectic.migration', () => {
  let client: pg.Client;

  beforeAll(async () => {
    ({ client } = await freshDatabase('migration'));
    await applyBundle(client, silentLogger);
  });

  const insert = (name: string, hash: string): Promise<pg.QueryResult> =>
    client.query('INSERT INTO hectic.migration (name, hash) VALUES ($1, $2) RETURNING name, hash, applied_at', [name, hash]);

  it('accepts a well-formed row and fills applied_at; a row is not a baseline unless marked', async () => {
    const { rows } = await insert('20250101120000-create-users', SHA_B);
    const marked = await client.query('SELECT baseline FROM hectic.migration WHERE name = $1', ['20250101120000-create-users']);
    expect(marked.rows).toEqual([{ baseline: false }]);
    expect(rows[0]).toMatchObject({ name: '20250101120000-create-users', hash: SHA_B });
    expect(rows[0].applied_at).toBeInstanceOf(Date);
  });

  it('rejects names that do not start with 14 digits and a dash', async () => {
    for (const bad of ['2025010112000-short', '20250101120000_underscore', 'create-users', 'x20250101120000-late']) {
      await expect(insert(bad, SHA_A), bad).rejects.toMatchObject({ code: '23514', message: expect.stringContaining('migration_name') });
    }
  });

  it('rejects hashes that are not 64 hex digits', async () => {
    for (const bad of ['a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), `${'a'.repeat(62)} a`, '']) {
      await expect(insert('20250101120001-bad-hash', bad), bad).rejects.toMatchObject({ code: '23514', message: expect.stringContaining('sha256') });
    }
  });

  it('stores an upper-case hash lower-case, on INSERT and on UPDATE', async () => {
    const { rows } = await insert('20250101120002-upper', SHA_B.toUpperCase());
    expect(rows[0].hash).toBe(SHA_B);
    const updated = await client.query(
      "UPDATE hectic.migration SET hash = $1 WHERE name = '20250101120002-upper' RETURNING hash", ['F'.repeat(64)]);
    expect(updated.rows[0].hash).toBe('f'.repeat(64));
    const check = await client.query('SELECT count(*)::int AS n FROM hectic.migration WHERE hash::text <> lower(hash::text)');
    expect(check.rows[0].n).toBe(0);
  });

  it('allows two migrations with the same hash but not the same name', async () => {
    await insert('20250101120003-same-a', SHA_A);
    await insert('20250101120004-same-b', SHA_A);
    await expect(insert('20250101120004-same-b', SHA_B)).rejects.toMatchObject({ code: '23505' });
  });

  it('has exactly one lower-casing trigger after repeated applies', async () => {
    await applyBundle(client, silentLogger);
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'hectic.migration'::regclass AND NOT tgisinternal");
    expect(rows[0].n).toBe(1);
  });
});

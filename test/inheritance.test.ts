/**
 * hectic.created_at / hectic.updated_at / hectic.immutable and the event triggers:
 * enforcement with its hint, every exemption, trigger attachment and migration mode.
 * Runs against a private cluster made by postgres-init; each group has its own database.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBundle } from '../src/deploy/bundle.js';
import { silentLogger } from '../src/base/log.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { clientConfig, TestClients } from './helpers/pg-clients.js';

let cluster: TestCluster;
let admin: pg.Client;
const clients = new TestClients();
let databaseCounter = 0;

function connectTo(url: string, database?: string): Promise<pg.Client> {
  return clients.connect(url, database);
}

/** A new database with the bundle applied, and a client on it. */
async function bundledDatabase(label: string): Promise<{ name: string; client: pg.Client }> {
  databaseCounter += 1;
  const name = `inherit_${label}_${databaseCounter}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const client = await connectTo(cluster.url, name);
  await applyBundle(client, silentLogger);
  return { name, client };
}

/** Names of the non-internal triggers on a table. */
async function triggersOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query(
    'SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname', [table]);
  return rows.map((row) => row.tgname as string);
}

/** Whether a relation exists, seen from `client`'s session (temporary tables too). */
async function exists(client: pg.Client, relation: string): Promise<boolean> {
  return (await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [relation])).rows[0].ok as boolean;
}

/** Columns of a table, in order. */
async function columnsOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query('SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [table]);
  return rows.map((row) => row.attname as string);
}

const MUST_INHERIT = { code: '42P16', message: expect.stringContaining('must inherit hectic.created_at') };

beforeAll(async () => {
  cluster = await startTestCluster();
  admin = await connectTo(cluster.url);
});

afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

describe('hectic_enforce_created_at_inheritance', () => {
  let client: pg.Client;

  beforeAll(async () => {
    ({ client } = await bundledDatabase('enforce'));
  });

  it('rejects a table that does not inherit hectic.created_at, with a HINT showing INHERITS', async () => {
    const error = await client.query('CREATE TABLE public.orphan (id int)').catch((caught: unknown) => caught);
    expect(error).toMatchObject(MUST_INHERIT);
    expect((error as { hint: string }).hint).toContain('INHERITS (hectic.created_at)');
    expect((error as { hint: string }).hint).toContain('public.orphan');
    // The project's own setting, not just the SQL one.
    expect((error as { hint: string }).hint).toContain('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS=public');
    expect((await client.query("SELECT to_regclass('public.orphan') AS t")).rows[0].t).toBeNull();
  });

  it('accepts a table inheriting hectic.created_at, which gets the column', async () => {
    await client.query('CREATE TABLE public.account (id int PRIMARY KEY, email text) INHERITS (hectic.created_at)');
    const { rows } = await client.query("INSERT INTO public.account (id, email) VALUES (1, 'a@b') RETURNING created_at");
    expect(rows[0].created_at).toBeInstanceOf(Date);
  });

  it('accepts indirect inheritance (child of a child of hectic.created_at)', async () => {
    await client.query('CREATE TABLE public.member (id int) INHERITS (hectic.created_at)');
    await client.query('CREATE TABLE public.admin_member (level int) INHERITS (public.member)');
    await client.query('CREATE TABLE public.super_admin_member (scope text) INHERITS (public.admin_member)');
    expect(await exists(client, 'public.super_admin_member')).toBe(true);
  });

  it('accepts multiple inheritance including hectic.created_at', async () => {
    await client.query('CREATE TABLE public.note (body text) INHERITS (hectic.updated_at, hectic.created_at)');
    expect(await columnsOf(client, 'public.note')).toEqual(['updated_at', 'created_at', 'body']);
    expect(await triggersOf(client, 'public.note')).toEqual(['hectic_set_updated_at']);
  });

  it('rejects CREATE TABLE AS and SELECT INTO, which cannot declare a parent', async () => {
    const ctas = await client.query('CREATE TABLE public.copy AS SELECT 1 AS x').catch((caught: unknown) => caught);
    expect(ctas).toMatchObject(MUST_INHERIT);
    expect((ctas as { hint: string }).hint).toContain('INHERITS (hectic.created_at)');
    await expect(client.query('SELECT 1 AS x INTO public.copy2')).rejects.toMatchObject(MUST_INHERIT);
  });

  it('also enforces inside DO blocks and functions', async () => {
    await expect(client.query('DO $$ BEGIN CREATE TABLE public.sneaky (x int); END $$')).rejects.toMatchObject(MUST_INHERIT);
  });

  it('ignores views, materialized views and foreign tables', async () => {
    await client.query('CREATE VIEW public.v AS SELECT 1 AS x');
    await client.query('CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS x');
    await client.query('CREATE FOREIGN DATA WRAPPER hectic_test_fdw');
    await client.query('CREATE SERVER hectic_test_server FOREIGN DATA WRAPPER hectic_test_fdw');
    await client.query('CREATE FOREIGN TABLE public.ft (x int) SERVER hectic_test_server');
    for (const relation of ['public.v', 'public.mv', 'public.ft']) expect(await exists(client, relation), relation).toBe(true);
  });

  it('is fired once per statement: a bad table among several aborts the whole statement', async () => {
    await expect(client.query('CREATE SCHEMA app CREATE TABLE good (x int) INHERITS (hectic.created_at) CREATE TABLE bad (x int)'))
      .rejects.toMatchObject(MUST_INHERIT);
    expect((await client.query("SELECT to_regnamespace('app') AS s")).rows[0].s).toBeNull();
  });
});

describe('exemptions', () => {
  let name: string;
  let client: pg.Client;

  beforeAll(async () => {
    ({ name, client } = await bundledDatabase('exempt'));
    await client.query('CREATE SCHEMA legacy; CREATE SCHEMA etl; CREATE SCHEMA other');
  });

  it('exempts the hectic and information_schema schemas', async () => {
    await client.query('CREATE TABLE hectic.scratch (x int)');
    try {
      await client.query('CREATE TABLE information_schema.hectic_scratch (x int)');
      expect(await exists(client, 'hectic.scratch')).toBe(true);
      expect(await exists(client, 'information_schema.hectic_scratch')).toBe(true);
    } finally {
      await client.query('DROP TABLE IF EXISTS hectic.scratch, information_schema.hectic_scratch');
    }
  });

  it('exempts temporary tables (pg_temp), also CREATE TEMP TABLE AS', async () => {
    try {
      await client.query('CREATE TEMP TABLE scratch (x int)');
      await client.query('CREATE TEMP TABLE scratch2 AS SELECT 1 AS x');
      await client.query('SELECT 1 AS x INTO TEMP scratch3');
      for (const table of ['scratch', 'scratch2', 'scratch3']) expect(await exists(client, `pg_temp.${table}`), table).toBe(true);
    } finally {
      await client.query('DROP TABLE IF EXISTS pg_temp.scratch, pg_temp.scratch2, pg_temp.scratch3');
    }
  });

  it('exempts the schemas in hectic.inheritance_extra_excluded_schemas (comma list, spaces trimmed)', async () => {
    await client.query("SET hectic.inheritance_extra_excluded_schemas = 'legacy, etl'");
    try {
      await client.query('CREATE TABLE legacy.old (x int)');
      await client.query('CREATE TABLE etl.staging AS SELECT 1 AS x');
      await expect(client.query('CREATE TABLE other.t (x int)')).rejects.toMatchObject(MUST_INHERIT);
      await expect(client.query('CREATE TABLE public.t (x int)')).rejects.toMatchObject(MUST_INHERIT);
    } finally {
      await client.query('RESET hectic.inheritance_extra_excluded_schemas');
    }
    await expect(client.query('CREATE TABLE legacy.after_reset (x int)')).rejects.toMatchObject(MUST_INHERIT);
  });

  it("'*' exempts every schema (enforcement off), also among other names, while the attach triggers keep working", async () => {
    await client.query("SET hectic.inheritance_extra_excluded_schemas = 'legacy, *'");
    try {
      await client.query('CREATE TABLE public.star_plain (x int)');
      await client.query('CREATE TABLE other.star_partitioned (at date) PARTITION BY RANGE (at)');
      await client.query('CREATE TABLE public.star_as AS SELECT 1 AS x');
      await client.query('CREATE TABLE public.star_touched (x int) INHERITS (hectic.updated_at)');
      expect(await triggersOf(client, 'public.star_touched')).toEqual(['hectic_set_updated_at']);
      const exempt = await client.query("SELECT hectic._inheritance_exempt_schema('public') AS public, hectic._inheritance_exempt_schema('other') AS other");
      expect(exempt.rows[0]).toEqual({ public: true, other: true });
    } finally {
      await client.query('RESET hectic.inheritance_extra_excluded_schemas');
    }
    await expect(client.query('CREATE TABLE public.after_star (x int)')).rejects.toMatchObject(MUST_INHERIT);
    const exempt = await client.query("SELECT hectic._inheritance_exempt_schema('public') AS public");
    expect(exempt.rows[0]).toEqual({ public: false });
  });

  it('honours the setting made per database (ALTER DATABASE … SET) in new sessions', async () => {
    await admin.query(`ALTER DATABASE ${name} SET hectic.inheritance_extra_excluded_schemas = 'etl,legacy'`);
    let fresh: pg.Client | undefined;
    try {
      fresh = await connectTo(cluster.url, name);
      await fresh.query('CREATE TABLE legacy.per_database (x int)');
      expect(await exists(fresh, 'legacy.per_database')).toBe(true);
      // The setting is the database's, so a session opened before it still enforces.
      await expect(client.query('CREATE TABLE legacy.older_session (x int)')).rejects.toMatchObject(MUST_INHERIT);
    } finally {
      await fresh?.end();
      await admin.query(`ALTER DATABASE ${name} RESET hectic.inheritance_extra_excluded_schemas`);
    }
  });

  it('requires a partitioned table to be exempt (it cannot INHERITS); its partitions are exempt', async () => {
    const error = await client.query('CREATE TABLE public.events (at date, x int) PARTITION BY RANGE (at)').catch((caught: unknown) => caught);
    expect(error).toMatchObject(MUST_INHERIT);
    expect((error as { hint: string }).hint).toContain('partitioned table');
    expect((error as { hint: string }).hint).toContain('hectic.inheritance_extra_excluded_schemas');
    expect((error as { hint: string }).hint).toContain('add public to HECTIC_INHERITANCE_EXCLUDED_SCHEMAS');

    // The documented way: exempt its schema for the one statement that creates it.
    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.inheritance_extra_excluded_schemas = 'public'");
    await client.query('CREATE TABLE public.events (at date, x int) PARTITION BY RANGE (at)');
    await client.query('COMMIT');

    // Partitions need nothing, in any schema, and are still real tables holding rows.
    await client.query("CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
    await client.query("CREATE TABLE other.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')");
    await client.query("INSERT INTO public.events VALUES ('2024-06-01', 1), ('2025-06-01', 2)");
    expect((await client.query('SELECT count(*)::int AS n FROM public.events')).rows[0].n).toBe(2);
  });

  it('exempts tables created by an extension (CREATE EXTENSION pg_cron works after the bundle)', async (context) => {
    let cronCluster: TestCluster | undefined;
    try {
      cronCluster = await startTestCluster({ PG_SHARED_PRELOAD_LIBRARIES: 'pg_cron' });
    } catch (error) {
      context.skip(`pg_cron is not available here: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    const cron = new pg.Client(clientConfig(cronCluster.url));
    try {
      await cron.connect();
      await applyBundle(cron, silentLogger);
      await cron.query('CREATE EXTENSION pg_cron');
      const { rows } = await cron.query(`
        SELECT c.relname, EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = c.oid) AS inherits
          FROM pg_class AS c WHERE c.relnamespace = 'cron'::regnamespace AND c.relkind = 'r' ORDER BY 1`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.inherits === false)).toBe(true);
      // …while the rule still holds for the user's own tables in that database.
      await expect(cron.query('CREATE TABLE public.t (x int)')).rejects.toMatchObject(MUST_INHERIT);
    } finally {
      await cron.end().catch(() => undefined);
      await cronCluster.stop();
    }
  });
});

describe('hectic_attach_updated_at_trigger', () => {
  let client: pg.Client;

  beforeAll(async () => {
    ({ client } = await bundledDatabase('updated'));
  });

  /** A new table inheriting hectic.updated_at, holding row 1 last updated in 2000. */
  async function profileTable(table: string): Promise<void> {
    await client.query(`CREATE TABLE ${table} (id int, bio text) INHERITS (hectic.created_at, hectic.updated_at)`);
    await client.query(`INSERT INTO ${table} (id, bio, updated_at) VALUES (1, 'old', '2000-01-01T00:00:00Z')`);
  }

  it('attaches hectic_set_updated_at to inheritors, which bumps updated_at on UPDATE', async () => {
    await profileTable('public.profile');
    expect(await triggersOf(client, 'public.profile')).toEqual(['hectic_set_updated_at']);
    const { rows } = await client.query(
      "UPDATE public.profile SET bio = 'new' WHERE id = 1 RETURNING updated_at, now() AS now, created_at");
    expect(rows[0].updated_at.getTime()).toBe(rows[0].now.getTime());
    expect(rows[0].updated_at.getTime()).toBeGreaterThan(Date.parse('2000-01-01T00:00:00Z'));
  });

  it('bumps it even when the UPDATE tries to set an old value', async () => {
    await profileTable('public.old_profile');
    const { rows } = await client.query(
      "UPDATE public.old_profile SET updated_at = '1999-01-01T00:00:00Z' WHERE id = 1 RETURNING updated_at, now() AS now");
    expect(rows[0].updated_at.getTime()).toBe(rows[0].now.getTime());
  });

  it('covers indirect inheritors and ALTER TABLE … INHERIT hectic.updated_at', async () => {
    await profileTable('public.base_profile');
    await client.query('CREATE TABLE public.vip_profile (tier int) INHERITS (public.base_profile)');
    expect(await triggersOf(client, 'public.vip_profile')).toEqual(['hectic_set_updated_at']);

    await client.query('CREATE TABLE public.late (id int, updated_at timestamptz NOT NULL DEFAULT now()) INHERITS (hectic.created_at)');
    expect(await triggersOf(client, 'public.late')).toEqual([]);
    await client.query('ALTER TABLE public.late INHERIT hectic.updated_at');
    expect(await triggersOf(client, 'public.late')).toEqual(['hectic_set_updated_at']);
    await client.query('ALTER TABLE public.late ADD COLUMN note text'); // no duplicate on later ALTERs
    expect(await triggersOf(client, 'public.late')).toEqual(['hectic_set_updated_at']);
  });

  it('leaves tables that do not inherit hectic.updated_at alone', async () => {
    await client.query('CREATE TABLE public.plain (id int) INHERITS (hectic.created_at)');
    expect(await triggersOf(client, 'public.plain')).toEqual([]);
  });

  it('applies in exempt schemas too (attaching is not enforcement)', async () => {
    await client.query('CREATE SCHEMA legacy');
    await client.query("SET hectic.inheritance_extra_excluded_schemas = 'legacy'");
    try {
      await client.query('CREATE TABLE legacy.touched (id int) INHERITS (hectic.updated_at)');
    } finally {
      await client.query('RESET hectic.inheritance_extra_excluded_schemas');
    }
    expect(await triggersOf(client, 'legacy.touched')).toEqual(['hectic_set_updated_at']);
  });

  it('does not duplicate triggers when the bundle is applied again', async () => {
    await profileTable('public.reapplied_profile');
    await applyBundle(client, silentLogger);
    expect(await triggersOf(client, 'public.reapplied_profile')).toEqual(['hectic_set_updated_at']);
  });
});

describe('hectic_attach_immutable_triggers', () => {
  let name: string;
  let client: pg.Client;
  const BLOCKED = (op: string): object => ({
    code: '55000',
    message: expect.stringContaining(`${op} on immutable table public.currency is not allowed outside migration mode`),
  });

  beforeAll(async () => {
    ({ name, client } = await bundledDatabase('immutable'));
    await client.query('CREATE TABLE public.currency (code text PRIMARY KEY, name text) INHERITS (hectic.created_at, hectic.immutable)');
  });

  it('attaches the row and statement triggers', async () => {
    expect(await triggersOf(client, 'public.currency')).toEqual(['hectic_block_immutable_dml', 'hectic_block_immutable_truncate']);
    const { rows } = await client.query(`
      SELECT tgname, (tgtype & 1) = 1 AS for_each_row FROM pg_trigger
       WHERE tgrelid = 'public.currency'::regclass AND NOT tgisinternal ORDER BY tgname`);
    expect(rows).toEqual([
      { tgname: 'hectic_block_immutable_dml', for_each_row: true },
      { tgname: 'hectic_block_immutable_truncate', for_each_row: false },
    ]);
  });

  it('blocks INSERT, UPDATE, DELETE and TRUNCATE outside migration mode', async () => {
    await expect(client.query("INSERT INTO public.currency (code, name) VALUES ('EUR', 'Euro')")).rejects.toMatchObject(BLOCKED('INSERT'));

    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.migration_mode = 'on'");
    await client.query("INSERT INTO public.currency (code, name) VALUES ('EUR', 'Euro'), ('USD', 'Dollar')");
    await client.query('COMMIT');

    await expect(client.query("UPDATE public.currency SET name = 'x'")).rejects.toMatchObject(BLOCKED('UPDATE'));
    await expect(client.query('DELETE FROM public.currency')).rejects.toMatchObject(BLOCKED('DELETE'));
    await expect(client.query('TRUNCATE public.currency')).rejects.toMatchObject(BLOCKED('TRUNCATE'));
    const error = await client.query('DELETE FROM public.currency').catch((caught: unknown) => caught);
    expect((error as { hint: string }).hint).toContain("SET LOCAL hectic.migration_mode = 'on'");
    expect((await client.query('SELECT count(*)::int AS n FROM public.currency')).rows[0].n).toBe(2);
  });

  it('allows every change with SET LOCAL hectic.migration_mode = on inside a transaction', async () => {
    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.migration_mode = 'on'");
    await client.query("UPDATE public.currency SET name = 'Euro (EUR)' WHERE code = 'EUR'");
    await client.query("DELETE FROM public.currency WHERE code = 'USD'");
    await client.query('TRUNCATE public.currency');
    await client.query("INSERT INTO public.currency (code, name) VALUES ('CHF', 'Franc')");
    await client.query('COMMIT');
    expect((await client.query('SELECT code FROM public.currency')).rows).toEqual([{ code: 'CHF' }]);
  });

  it('does not leak migration mode past COMMIT or ROLLBACK, nor into other sessions', async () => {
    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.migration_mode = 'on'");
    await client.query('COMMIT');
    await expect(client.query("INSERT INTO public.currency (code) VALUES ('GBP')")).rejects.toMatchObject(BLOCKED('INSERT'));

    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.migration_mode = 'on'");
    await client.query('ROLLBACK');
    await expect(client.query("INSERT INTO public.currency (code) VALUES ('GBP')")).rejects.toMatchObject(BLOCKED('INSERT'));

    const other = await connectTo(cluster.url, name);
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL hectic.migration_mode = 'on'");
      await expect(other.query("INSERT INTO public.currency (code) VALUES ('JPY')")).rejects.toMatchObject(BLOCKED('INSERT'));
    } finally {
      await client.query('ROLLBACK');
      await other.end();
    }
  });

  it('does not accept other values than on', async () => {
    for (const value of ['off', 'true', '']) {
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL hectic.migration_mode = '${value}'`);
        await expect(client.query("INSERT INTO public.currency (code) VALUES ('X')"), value).rejects.toMatchObject(BLOCKED('INSERT'));
      } finally {
        await client.query('ROLLBACK');
      }
    }
  });

  it('covers children of an immutable table and ALTER TABLE … INHERIT hectic.immutable', async () => {
    await client.query('CREATE TABLE public.crypto_currency (chain text) INHERITS (public.currency)');
    expect(await triggersOf(client, 'public.crypto_currency')).toEqual(['hectic_block_immutable_dml', 'hectic_block_immutable_truncate']);
    await expect(client.query("INSERT INTO public.crypto_currency (code, chain) VALUES ('BTC', 'btc')"))
      .rejects.toMatchObject({ message: expect.stringContaining('immutable table public.crypto_currency') });

    await client.query('CREATE TABLE public.frozen_later (x int) INHERITS (hectic.created_at)');
    await client.query('INSERT INTO public.frozen_later (x) VALUES (1)');
    await client.query('ALTER TABLE public.frozen_later INHERIT hectic.immutable');
    await expect(client.query('DELETE FROM public.frozen_later')).rejects.toMatchObject({ code: '55000' });
  });

  it('does not duplicate triggers when the bundle is applied again', async () => {
    await applyBundle(client, silentLogger);
    expect(await triggersOf(client, 'public.currency')).toEqual(['hectic_block_immutable_dml', 'hectic_block_immutable_truncate']);
  });
});

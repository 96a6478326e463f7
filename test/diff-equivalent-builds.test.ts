/**
 * No false differences (issue 22: "checked again on generated schemas"): one generated
 * schema built two ways — declared at once, as sources are written, and reached step by
 * step, as migrations get there — must compare identical. The migration path names its
 * constraints explicitly where the sources leave them implicit, turns a serial into a
 * sequence of its own, adds an identity and an enum value afterwards, attaches a
 * partition made with LIKE, validates NOT VALID constraints, drops a column, replaces
 * functions, views, triggers, comments and policies, and creates everything in another
 * order (other oids, another dump order). A copy with one changed CHECK shows exactly
 * that object, so the comparison is not blind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { compareDatabases } from '../src/diff/compare-databases.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { baseEnv } from './helpers/env.js';
import { createDatabase, withDb } from './helpers/project.js';

/** How many copies of the group of objects each schema holds. */
const GROUPS = 8;

/** One group of objects, declared the way sources are written. */
function declared(i: number): string[] {
  return [
    `CREATE TYPE gen.status_${i} AS ENUM ('new', 'paid', 'shipped')`,
    `CREATE TABLE gen.customer_${i} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       email text NOT NULL UNIQUE,
       name text NOT NULL CHECK (name <> ''),
       created timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE gen.order_${i} (
       id serial PRIMARY KEY,
       customer_id bigint NOT NULL REFERENCES gen.customer_${i} (id) ON DELETE CASCADE,
       status gen.status_${i} NOT NULL DEFAULT 'new',
       total numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
       note text)`,
    `CREATE INDEX order_${i}_customer_idx ON gen.order_${i} (customer_id)`,
    `CREATE INDEX order_${i}_open_idx ON gen.order_${i} (status) WHERE status <> 'shipped'`,
    `CREATE TABLE gen.event_${i} (id bigint NOT NULL, at date NOT NULL, payload jsonb, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
    `CREATE TABLE gen.event_${i}_2024 PARTITION OF gen.event_${i} FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
    `CREATE TABLE gen.event_${i}_2025 PARTITION OF gen.event_${i} FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
    `CREATE FUNCTION gen.order_${i}_total(p_customer bigint) RETURNS numeric LANGUAGE sql STABLE
       AS $$ SELECT coalesce(sum(total), 0) FROM gen.order_${i} WHERE customer_id = p_customer $$`,
    `CREATE VIEW gen.customer_${i}_totals AS SELECT c.id, c.email, gen.order_${i}_total(c.id) AS total FROM gen.customer_${i} c`,
    `CREATE FUNCTION gen.order_${i}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$`,
    `CREATE TRIGGER order_${i}_touch BEFORE INSERT OR UPDATE ON gen.order_${i} FOR EACH ROW EXECUTE FUNCTION gen.order_${i}_touch()`,
    `COMMENT ON TABLE gen.order_${i} IS 'orders of group ${i}'`,
    `ALTER TABLE gen.order_${i} ENABLE ROW LEVEL SECURITY`,
    `CREATE POLICY order_${i}_own ON gen.order_${i} USING (customer_id > 0)`,
  ];
}

/** The same group reached step by step, in three passes over all groups (other creation order). */
function migrated(groups: number): string[] {
  const each = (steps: (i: number) => string[]): string[] => Array.from({ length: groups }, (_, i) => steps(groups - 1 - i)).flat();
  return [
    ...each((i) => [
      `CREATE TYPE gen.status_${i} AS ENUM ('new', 'shipped')`,
      `ALTER TYPE gen.status_${i} ADD VALUE 'paid' BEFORE 'shipped'`,
      `CREATE TABLE gen.customer_${i} (id bigint NOT NULL, email text, name text NOT NULL, legacy integer)`,
      `ALTER TABLE gen.customer_${i} ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY`,
      `ALTER TABLE gen.customer_${i} ADD CONSTRAINT customer_${i}_pkey PRIMARY KEY (id)`,
      `ALTER TABLE gen.customer_${i} ALTER COLUMN email SET NOT NULL`,
      `ALTER TABLE gen.customer_${i} ADD CONSTRAINT customer_${i}_email_key UNIQUE (email)`,
      `ALTER TABLE gen.customer_${i} ADD CONSTRAINT customer_${i}_name_check CHECK (name <> '') NOT VALID`,
      `ALTER TABLE gen.customer_${i} VALIDATE CONSTRAINT customer_${i}_name_check`,
      `ALTER TABLE gen.customer_${i} DROP COLUMN legacy`,
      `ALTER TABLE gen.customer_${i} ADD COLUMN created timestamptz NOT NULL DEFAULT now()`,
    ]),
    ...each((i) => [
      `CREATE SEQUENCE gen.order_${i}_id_seq AS integer`,
      `CREATE TABLE gen.order_${i} (
         id integer NOT NULL DEFAULT nextval('gen.order_${i}_id_seq'::regclass),
         customer_id bigint NOT NULL,
         status gen.status_${i} NOT NULL DEFAULT 'new',
         total numeric(12,2) NOT NULL DEFAULT 0,
         note text)`,
      `ALTER SEQUENCE gen.order_${i}_id_seq OWNED BY gen.order_${i}.id`,
      `ALTER TABLE gen.order_${i} ADD CONSTRAINT order_${i}_pkey PRIMARY KEY (id)`,
      `ALTER TABLE gen.order_${i} ADD CONSTRAINT order_${i}_total_check CHECK (total >= 0)`,
      `ALTER TABLE gen.order_${i} ADD CONSTRAINT order_${i}_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES gen.customer_${i} (id) ON DELETE CASCADE NOT VALID`,
      `ALTER TABLE gen.order_${i} VALIDATE CONSTRAINT order_${i}_customer_id_fkey`,
      `CREATE INDEX CONCURRENTLY order_${i}_customer_idx ON gen.order_${i} (customer_id)`,
      `CREATE INDEX order_${i}_open_idx ON gen.order_${i} (status) WHERE status <> 'shipped'`,
      `CREATE FUNCTION gen.order_${i}_total(p_customer bigint) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT 0::numeric $$`,
      `CREATE VIEW gen.customer_${i}_totals AS SELECT c.id, c.email FROM gen.customer_${i} c`,
      `CREATE OR REPLACE FUNCTION gen.order_${i}_total(p_customer bigint) RETURNS numeric LANGUAGE sql STABLE
         AS $$ SELECT coalesce(sum(total), 0) FROM gen.order_${i} WHERE customer_id = p_customer $$`,
      `CREATE OR REPLACE VIEW gen.customer_${i}_totals AS SELECT c.id, c.email, gen.order_${i}_total(c.id) AS total FROM gen.customer_${i} c`,
    ]),
    ...each((i) => [
      `CREATE TABLE gen.event_${i} (id bigint NOT NULL, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at)`,
      `ALTER TABLE gen.event_${i} ADD CONSTRAINT event_${i}_pkey PRIMARY KEY (id, at)`,
      `CREATE TABLE gen.event_${i}_2025 PARTITION OF gen.event_${i} FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
      `CREATE TABLE gen.event_${i}_2024 (LIKE gen.event_${i} INCLUDING ALL)`,
      `ALTER TABLE gen.event_${i} ATTACH PARTITION gen.event_${i}_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
      `CREATE FUNCTION gen.order_${i}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
      `CREATE TRIGGER order_${i}_touch BEFORE UPDATE ON gen.order_${i} FOR EACH ROW EXECUTE FUNCTION gen.order_${i}_touch()`,
      `DROP TRIGGER order_${i}_touch ON gen.order_${i}`,
      `CREATE OR REPLACE FUNCTION gen.order_${i}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$`,
      `CREATE TRIGGER order_${i}_touch BEFORE INSERT OR UPDATE ON gen.order_${i} FOR EACH ROW EXECUTE FUNCTION gen.order_${i}_touch()`,
      `COMMENT ON TABLE gen.order_${i} IS 'a draft'`,
      `COMMENT ON TABLE gen.order_${i} IS 'orders of group ${i}'`,
      `ALTER TABLE gen.order_${i} ENABLE ROW LEVEL SECURITY`,
      `CREATE POLICY order_${i}_own ON gen.order_${i} USING (true)`,
      `ALTER POLICY order_${i}_own ON gen.order_${i} USING (customer_id > 0)`,
    ]),
  ];
}

let cluster: TestCluster;
const urls: { declared?: string; migrated?: string } = {};

/** A new database of the cluster with `statements` run one by one (each in its own transaction). */
async function built(label: string, statements: readonly string[]): Promise<string> {
  const url = await createDatabase(cluster.url, label);
  await withDb(url, async (client) => {
    await client.query('CREATE SCHEMA gen');
    for (const statement of statements) await client.query(statement);
  });
  return url;
}

beforeAll(async () => {
  cluster = await startTestCluster();
  urls.declared = await built('declared', Array.from({ length: GROUPS }, (_, i) => declared(i)).flat());
  urls.migrated = await built('migrated', migrated(GROUPS));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function compare(db1: string, db2: string) {
  const config = loadConfig(baseEnv());
  return compareDatabases(config, { db1, db2 }, { tables: [], aspects: { privileges: false, columnOrder: true } });
}

describe('one schema built two ways', () => {
  it('compares identical: no object differs, none is on one side only', async () => {
    const { schema } = await compare(urls.declared!, urls.migrated!);
    expect({ changed: schema.changed.map((object) => object.key), onlyInDb1: schema.onlyInDb1.map((o) => o.key), onlyInDb2: schema.onlyInDb2.map((o) => o.key) }).toEqual({
      changed: [],
      onlyInDb1: [],
      onlyInDb2: [],
    });
    // Every group's objects were compared: at least its two tables, view, two functions, trigger, policy and comment.
    expect(schema.identical).toBeGreaterThanOrEqual(GROUPS * 8);
  });

  it('a copy with one CHECK changed shows that table alone', async () => {
    const copy = await built('changed', migrated(GROUPS).map((statement) => statement.replace('CHECK (total >= 0)', (match) => (statement.includes('order_3_total_check') ? 'CHECK (total > 0)' : match))));
    const { schema } = await compare(urls.declared!, copy);
    expect(schema.onlyInDb1.concat(schema.onlyInDb2)).toEqual([]);
    expect(schema.changed.map((object) => object.key)).toEqual(['TABLE gen.order_3']);
    expect(schema.changed[0]?.db2).toContain('CHECK ((total > (0)::numeric))');
  });
});

/**
 * The streamed data comparison of `database diff` (compareData) on real servers: DB1 is a
 * database in the default collation, DB2 one whose default collation is ICU's en-US —
 * as two clusters set up differently would be — where 'B' sorts after 'a', not before.
 * Both are filled by the same SQL, then DB2 (or DB1) changed; the comparison must report
 * exactly the rows that change touched, whatever the key's type, width or NULLs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareData, selectTables, type DataCompareOptions, type TableDataComparison } from '../src/diff/compare-data.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { urlFor, withDb } from './helpers/project.js';

let cluster: TestCluster;
let counter = 0;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function createDatabase(options: string): Promise<string> {
  counter += 1;
  const name = `rows_${process.pid}_${counter}`;
  await withDb(urlFor(cluster.url, 'postgres'), (client) => client.query(`CREATE DATABASE ${name} TEMPLATE template0 ${options}`));
  return urlFor(cluster.url, name);
}

interface Case {
  setup: string;
  /** Run on DB2 after the setup. */
  change?: string;
  /** Run on DB1 after the setup. */
  changeDb1?: string;
  tables: string[];
  options?: DataCompareOptions;
}

async function compare(test: Case): Promise<Record<string, TableDataComparison>> {
  const db1 = await createDatabase('');
  const db2 = await createDatabase("LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
  await withDb(db1, (client) => client.query(`${test.setup};\n${test.changeDb1 ?? ''}`));
  await withDb(db2, (client) => client.query(`${test.setup};\n${test.change ?? ''}`));
  const results = await withDb(db1, (client1) =>
    withDb(db2, async (client2) => compareData(client1, client2, await selectTables(client1, client2, test.tables), test.options)),
  );
  return Object.fromEntries(results.map((result) => [result.table, result]));
}

const keys = (rows: Array<Array<string | null>>): Array<string | null> => rows.map((row) => row[0] ?? null);

describe('keys', () => {
  it('a composite key of text and integer, in two collations: only the rows changed', async () => {
    const { 'public.price': price } = await compare({
      setup: `CREATE TABLE price (region text, tier integer, amount numeric, PRIMARY KEY (region, tier));
        INSERT INTO price SELECT r, t, r_n * 100 + t FROM unnest(ARRAY['a', 'B', 'b', 'A', 'é', 'Z', 'z', '_x', 'a b']) WITH ORDINALITY AS u(r, r_n), generate_series(1, 300) AS t`,
      change: `UPDATE price SET amount = -1 WHERE region = 'B' AND tier = 10;
        DELETE FROM price WHERE region = 'a' AND tier = 2;
        INSERT INTO price VALUES ('b', 301, 0), ('AA', 1, 0)`,
      tables: ['price'],
    });
    expect(price).toMatchObject({ status: 'different', orderBy: 'primary key', rowCountDb1: 2700, rowCountDb2: 2701, rowsOnlyInDb1Count: 2, rowsOnlyInDb2Count: 3 });
    expect(price?.rowsOnlyInDb1).toEqual([['B', '10', '210'], ['a', '2', '102']]);
    // In key order: "C" collation ('AA' < 'B' < 'a' < 'b'), tiers as integers.
    expect(price?.rowsOnlyInDb2).toEqual([['AA', '1', '0'], ['B', '10', '-1'], ['b', '301', '0']]);
    expect(price?.diff).toContain('-B\t10\t210\n+B\t10\t-1\n');
  });

  it('keys whose text sorts otherwise than their value: numeric, negative, bigint, timestamps, uuid, enum', async () => {
    const { 'public.reading': reading } = await compare({
      setup: `CREATE TYPE level AS ENUM ('low', 'high', 'Mid');
        CREATE TABLE reading (n numeric, at timestamptz, l level, u uuid, big bigint, note text, PRIMARY KEY (n, at, l, u, big));
        INSERT INTO reading SELECT (i - 500) / 7.0, timestamptz '2020-01-01 00:00+00' + i * interval '37 hours', (ARRAY['low','high','Mid']::level[])[1 + i % 3],
          md5(i::text)::uuid, (i - 500) * 40000000000, 'r' || i FROM generate_series(1, 1500) AS i`,
      change: `UPDATE reading SET note = 'changed' WHERE big IN (-4000000000000, 0, 40000000000);
        DELETE FROM reading WHERE big = 400000000000`,
      tables: ['reading'],
    });
    expect(reading).toMatchObject({ status: 'different', rowCountDb1: 1500, rowCountDb2: 1499, rowsOnlyInDb1Count: 4, rowsOnlyInDb2Count: 3 });
    // Listed by n as a number: -14.28… before 0 before 0.14… before 1.42… (as text, "-" and "1" would sort otherwise).
    expect(reading?.rowsOnlyInDb1.map((row) => row[4])).toEqual(['-4000000000000', '0', '40000000000', '400000000000']);
    expect(reading?.rowsOnlyInDb2.map((row) => row[5])).toEqual(['changed', 'changed', 'changed']);
  });

  it('a unique key of NOT NULL columns when there is no primary key', async () => {
    const { 'public.tag': tag } = await compare({
      setup: `CREATE TABLE tag (label varchar(20) NOT NULL UNIQUE, weight int);
        INSERT INTO tag SELECT 'tag ' || i, i FROM generate_series(1, 50) AS i`,
      change: "UPDATE tag SET weight = NULL WHERE label = 'tag 10'",
      tables: ['tag'],
    });
    expect(tag).toMatchObject({ orderBy: 'unique key', rowsOnlyInDb1: [['tag 10', '10']], rowsOnlyInDb2: [['tag 10', null]] });
  });
});

describe('rows', () => {
  it('wide rows: 120 columns and values longer than a network packet', async () => {
    const columns = Array.from({ length: 120 }, (_, i) => `c${i} text`).join(', ');
    const values = Array.from({ length: 120 }, (_, i) => (i === 60 ? "repeat(md5(i::text), 3000)" : `'v${i}-' || i`)).join(', ');
    const { 'public.wide': wide } = await compare({
      setup: `CREATE TABLE wide (id int PRIMARY KEY, ${columns}); INSERT INTO wide SELECT i, ${values} FROM generate_series(1, 300) AS i`,
      change: "UPDATE wide SET c60 = c60 || 'x' WHERE id = 150; UPDATE wide SET c119 = NULL WHERE id = 300",
      tables: ['wide'],
    });
    expect(wide).toMatchObject({ status: 'different', rowsOnlyInDb1Count: 2, rowsOnlyInDb2Count: 2 });
    expect(keys(wide?.rowsOnlyInDb2 ?? [])).toEqual(['150', '300']);
    expect(wide?.rowsOnlyInDb2[0]?.[61]?.endsWith('x')).toBe(true);
    expect(wide?.rowsOnlyInDb2[1]?.[120]).toBeNull();
  });

  it('no key: compared as multisets by whole rows, duplicates and NULLs included', async () => {
    const { 'public.event': event } = await compare({
      setup: `CREATE TABLE event (kind text, amount numeric, note text);
        INSERT INTO event SELECT (ARRAY['b', 'A', NULL])[1 + i % 3], (i % 4) * 0.5, CASE WHEN i % 5 = 0 THEN NULL ELSE '\\N' END FROM generate_series(1, 400) AS i;
        INSERT INTO event VALUES ('x', 1.0, 'same value, two texts'), ('x', 1.00, 'same value, two texts')`,
      change: `DELETE FROM event WHERE ctid = (SELECT min(ctid) FROM event WHERE kind = 'A' AND amount = 0.5 AND note IS NULL);
        INSERT INTO event VALUES (NULL, NULL, NULL)`,
      tables: ['event'],
    });
    expect(event).toMatchObject({ status: 'different', orderBy: 'all columns', rowsOnlyInDb1: [['A', '0.5', null]], rowsOnlyInDb2: [[null, null, null]] });
  });

  it('identical tables of every shape are identical; NULL and the text \\N stay apart', async () => {
    const result = await compare({
      setup: `CREATE TABLE a (id int PRIMARY KEY, t text); INSERT INTO a SELECT i, CASE WHEN i % 2 = 0 THEN NULL ELSE '\\N' END FROM generate_series(1, 100) i;
        CREATE TABLE b (x float8, y jsonb, z int[]); INSERT INTO b SELECT i / 3.0, jsonb_build_object('k', i), ARRAY[i, -i] FROM generate_series(1, 100) i;
        CREATE TABLE c (at timestamptz PRIMARY KEY); INSERT INTO c SELECT timestamptz '2026-03-29 00:30+00' + i * interval '7 hours' FROM generate_series(1, 10) i;
        CREATE TABLE d ()`,
      change: "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'Asia/Kathmandu'); END $$",
      tables: ['a', 'b', 'c', 'd'],
    });
    expect(Object.values(result).map((table) => [table.table, table.status])).toEqual([
      ['public.a', 'identical'], ['public.b', 'identical'], ['public.c', 'identical'], ['public.d', 'identical'],
    ]);
    const swapped = await compare({ setup: 'CREATE TABLE a (id int PRIMARY KEY, t text); INSERT INTO a VALUES (1, NULL)', change: "UPDATE a SET t = '\\N'", tables: ['a'] });
    expect(swapped['public.a']).toMatchObject({ rowsOnlyInDb1: [['1', null]], rowsOnlyInDb2: [['1', '\\N']] });
  });

  it('a table on one side only: all its rows, counted', async () => {
    const { 'public.extra': extra } = await compare({ setup: 'SELECT 1', changeDb1: 'CREATE TABLE extra AS SELECT generate_series(1, 2500) AS id', tables: ['extra'] });
    expect(extra).toMatchObject({ status: 'only-in-db1', rowCountDb1: 2500, rowCountDb2: null, rowsOnlyInDb1Count: 2500, rowsOnlyInDb2Count: 0 });
    expect(extra?.diff.startsWith('--- DB1: public.extra\n+++ DB2: (absent)\n@@ -1,')).toBe(true);
  });
});

describe('limits', () => {
  it('keeps the first rows up to the limit, counts the rest, and writes them all to the rows file', async () => {
    const dir = makeTempDir('db-tool-rows-file-');
    try {
      const rowsFile = path.join(dir, 'rows.diff');
      const { 'public.item': item, 'public.other': other } = await compare({
        setup: `CREATE TABLE item (id int PRIMARY KEY, name text); INSERT INTO item SELECT i, 'item ' || i FROM generate_series(1, 5000) AS i;
          CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (1)`,
        change: "UPDATE item SET name = upper(name) WHERE id % 100 = 0; INSERT INTO other VALUES (2)",
        tables: ['item', 'other'],
        options: { rowLimit: 10, rowsFile },
      });
      expect(item).toMatchObject({ rowsOnlyInDb1Count: 50, rowsOnlyInDb2Count: 50, diffRowsNotShown: 90 });
      expect(keys(item?.rowsOnlyInDb1 ?? [])).toEqual(['100', '200', '300', '400', '500', '600', '700', '800', '900', '1000']);
      expect(item?.diff.split('\n').filter((line) => /^[-+]\d/.test(line))).toHaveLength(10);
      const file = fs.readFileSync(rowsFile, 'utf8');
      expect(file.split('\n').filter((line) => /^-\d/.test(line))).toHaveLength(50);
      expect(file.split('\n').filter((line) => /^\+\d/.test(line))).toHaveLength(51);
      expect(file).toContain('-5000\titem 5000\n+5000\tITEM 5000\n');
      expect(file).toContain('--- DB1: public.other\n+++ DB2: public.other\n');
      expect(other?.diff).toContain('+2\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

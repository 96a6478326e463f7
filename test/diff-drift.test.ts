/**
 * One test per kind of drift `database diff` must catch, on the bookstore fixture: a
 * database hydrated from its sources is DB1; DB2 is a copy of it (CREATE DATABASE …
 * TEMPLATE) with one change. The comparison (compareDatabases) must report exactly the
 * objects that change touches, and nothing else. The full `database diff` runs (two
 * private clusters, backups, migrations) are in diff.test.ts, diff-fixtures.test.ts and
 * non-hectic.test.ts; here one shared cluster keeps 30 comparisons fast.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/base/config.js';
import { MissingTableError } from '../src/base/errors.js';
import { compareDatabases, type Comparison } from '../src/diff/compare-databases.js';
import type { ComparedAspects } from '../src/diff/diff-result.js';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { baseEnv } from './helpers/env.js';
import { createDatabase, databaseOf, FIXTURES, withDb } from './helpers/project.js';

const SOURCES = path.join(FIXTURES, 'schemas', 'bookstore', 'db', 'src');

let cluster: TestCluster;
let config: Config;
let base: string;
let baseName: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  config = loadConfig(baseEnv());
  base = await createDatabase(cluster.url, 'drift_base');
  baseName = databaseOf(base);
  const hydrate = await runBin('database', ['-u', base, 'hydrate'], { env: { DATABASE_SOURCE: SOURCES, HECTIC_LOG: 'warn' } });
  if (hydrate.code !== 0) throw new Error(`hydrate failed: ${hydrate.stderr}`);
  // Roles are per cluster: the ones the drift cases use exist for every copy.
  await withDb(base, (client) => client.query("CREATE ROLE bookstore_owner NOLOGIN"));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const DEFAULT_ASPECTS: ComparedAspects = { privileges: false, columnOrder: true };

/** DB2 = a copy of the base with `change` applied (in migration mode, so reference data can change). */
async function drifted(change: string): Promise<string> {
  const copy = await createDatabase(cluster.url, 'drift', baseName);
  await withDb(copy, async (client) => {
    await client.query('BEGIN');
    await client.query("SET LOCAL hectic.migration_mode = 'on'");
    await client.query(change);
    await client.query('COMMIT');
  });
  return copy;
}

async function compare(change: string, options: { tables?: string[]; aspects?: Partial<ComparedAspects>; setupBoth?: string } = {}): Promise<Comparison> {
  let db1 = base;
  if (options.setupBoth) {
    db1 = await drifted(options.setupBoth);
    const db2 = await createDatabase(cluster.url, 'drift', databaseOf(db1));
    await withDb(db2, async (client) => {
      await client.query('BEGIN');
      await client.query("SET LOCAL hectic.migration_mode = 'on'");
      await client.query(change);
      await client.query('COMMIT');
    });
    return compareDatabases(config, { db1, db2 }, { tables: options.tables ?? [], aspects: { ...DEFAULT_ASPECTS, ...options.aspects } });
  }
  const db2 = await drifted(change);
  return compareDatabases(config, { db1, db2 }, { tables: options.tables ?? [], aspects: { ...DEFAULT_ASPECTS, ...options.aspects } });
}

interface Keys {
  changed?: string[];
  onlyInDb1?: string[];
  onlyInDb2?: string[];
}

function keysOf(result: Comparison): Required<Keys> {
  return {
    changed: result.schema.changed.map((object) => object.key),
    onlyInDb1: result.schema.onlyInDb1.map((object) => object.key),
    onlyInDb2: result.schema.onlyInDb2.map((object) => object.key),
  };
}

function expectSchemaDrift(result: Comparison, expected: Keys): void {
  expect(keysOf(result)).toEqual({ changed: expected.changed ?? [], onlyInDb1: expected.onlyInDb1 ?? [], onlyInDb2: expected.onlyInDb2 ?? [] });
  expect(result.data.filter((table) => table.status !== 'identical')).toEqual([]);
}

describe('no drift', () => {
  it('an untouched copy is identical, with and without --privileges', async () => {
    expectSchemaDrift(await compare('SELECT 1'), {});
    expectSchemaDrift(await compare('SELECT 1', { aspects: { privileges: true } }), {});
  });
});

describe('tables and columns', () => {
  it.each([
    ['a column added', 'ALTER TABLE store.author ADD COLUMN website text', 'TABLE store.author'],
    ['a column type changed', 'ALTER TABLE store.review ALTER COLUMN body TYPE varchar(2000)', 'TABLE store.review'],
    ['a default changed', "ALTER TABLE store.book ALTER COLUMN format SET DEFAULT 'hardcover'", 'TABLE store.book'],
    ['NOT NULL added', 'ALTER TABLE store.author ALTER COLUMN bio SET NOT NULL', 'TABLE store.author'],
    ['a check constraint changed', 'ALTER TABLE store.review DROP CONSTRAINT review_stars_check, ADD CONSTRAINT review_stars_check CHECK (stars BETWEEN 1 AND 10)', 'TABLE store.review'],
    ['a generated column expression changed', 'ALTER TABLE store.book ALTER COLUMN tax DROP EXPRESSION', 'TABLE store.book'],
  ])('%s', async (_kind, change, key) => {
    expectSchemaDrift(await compare(change), { changed: [key] });
  });

  it('a table added (inheriting hectic.created_at) shows with its constraint', async () => {
    const result = await compare('CREATE TABLE store.wishlist (id bigint PRIMARY KEY, book_id bigint) INHERITS (hectic.created_at)');
    // pg_dump sets the inherited column's default on the child separately.
    expectSchemaDrift(result, { onlyInDb2: ['TABLE store.wishlist', 'DEFAULT store.wishlist created_at', 'CONSTRAINT store.wishlist wishlist_pkey'] });
  });

  it('a column moved (dropped and added again) is drift, unless --ignore-column-order', async () => {
    const move = 'ALTER TABLE store.review DROP COLUMN stars; ALTER TABLE store.review ADD COLUMN stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5)';
    const strict = await compare(move);
    expectSchemaDrift(strict, { changed: ['TABLE store.review'] });
    expect(strict.schema.changed[0]?.db2).toMatch(/body text,\n {4}stars smallint NOT NULL,/);
    expectSchemaDrift(await compare(move, { aspects: { columnOrder: false } }), {});
  });
});

describe('indexes and constraints', () => {
  it.each([
    ['a partial index predicate', 'DROP INDEX store.book_cheap; CREATE INDEX book_cheap ON store.book (price) WHERE price < 500', 'INDEX store.book_cheap'],
    ['an expression index', 'DROP INDEX store.author_lower_name; CREATE INDEX author_lower_name ON store.author (upper(name))', 'INDEX store.author_lower_name'],
    ['a GIN index turned GiST', 'DROP INDEX store.book_title_trgm; CREATE INDEX book_title_trgm ON store.book USING gist (title gist_trgm_ops)', 'INDEX store.book_title_trgm'],
    ['a foreign key action', 'ALTER TABLE store.shelf_booking DROP CONSTRAINT shelf_booking_book_id_fkey, ADD CONSTRAINT shelf_booking_book_id_fkey FOREIGN KEY (book_id) REFERENCES store.book (id)', 'FK CONSTRAINT store.shelf_booking shelf_booking_book_id_fkey'],
  ])('%s changed', async (_kind, change, key) => {
    expectSchemaDrift(await compare(change), { changed: [key] });
  });

  it('an index dropped', async () => {
    expectSchemaDrift(await compare('DROP INDEX store.book_tags'), { onlyInDb1: ['INDEX store.book_tags'] });
  });

  it('an exclusion constraint dropped', async () => {
    expectSchemaDrift(await compare('ALTER TABLE store.shelf_booking DROP CONSTRAINT no_double_booking'), { onlyInDb1: ['CONSTRAINT store.shelf_booking no_double_booking'] });
  });
});

describe('types, functions and other objects', () => {
  it.each([
    ['an enum value added', "ALTER TYPE store.book_format ADD VALUE 'audiobook'", 'TYPE store.book_format'],
    ['a domain constraint', "ALTER DOMAIN store.isbn DROP CONSTRAINT isbn_format; ALTER DOMAIN store.isbn ADD CONSTRAINT isbn_format CHECK (VALUE ~ '^[0-9]{10}([0-9]{3})?$')", 'DOMAIN store.isbn'],
    ['a function body', "CREATE OR REPLACE FUNCTION store.next_invoice() RETURNS text LANGUAGE sql AS $$ SELECT 'INVOICE-' || nextval('store.invoice_number') $$", 'FUNCTION store.next_invoice()'],
    ['a view', 'CREATE OR REPLACE VIEW store.catalog AS SELECT b.isbn, b.title, a.name AS author, b.format, b.price, b.tax FROM store.book AS b JOIN store.author AS a ON a.id = b.author_id', 'VIEW store.catalog'],
    ['a trigger', 'DROP TRIGGER book_trim_title ON store.book; CREATE TRIGGER book_trim_title BEFORE INSERT ON store.book FOR EACH ROW EXECUTE FUNCTION store.trim_title()', 'TRIGGER store.book book_trim_title'],
    ['a row-level security policy', 'ALTER POLICY review_read ON store.review USING (stars > 1)', 'POLICY store.review review_read'],
    ['a comment', "COMMENT ON TABLE store.author IS 'writers'", 'COMMENT TABLE store.author'],
    ['a sequence', 'ALTER SEQUENCE store.invoice_number INCREMENT BY 10', 'SEQUENCE store.invoice_number'],
  ])('%s changed', async (_kind, change, key) => {
    expectSchemaDrift(await compare(change), { changed: [key] });
  });

  it('a materialized view changed (its index comes back the same)', async () => {
    const change = `DROP MATERIALIZED VIEW store.author_stats;
      CREATE MATERIALIZED VIEW store.author_stats AS SELECT a.id AS author_id, count(b.id) AS books FROM store.author AS a LEFT JOIN store.book AS b ON b.author_id = a.id GROUP BY a.id WITH NO DATA;
      CREATE UNIQUE INDEX author_stats_author ON store.author_stats (author_id)`;
    expectSchemaDrift(await compare(change), { changed: ['MATERIALIZED VIEW store.author_stats'] });
  });

  it('row-level security switched off', async () => {
    expectSchemaDrift(await compare('ALTER TABLE store.review DISABLE ROW LEVEL SECURITY'), { onlyInDb1: ['ROW SECURITY store.review'] });
  });

  it('an extension added', async () => {
    expectSchemaDrift(await compare('CREATE EXTENSION citext'), { onlyInDb2: ['COMMENT EXTENSION citext', 'EXTENSION citext'] });
  });

  it('a schema added', async () => {
    expectSchemaDrift(await compare('CREATE SCHEMA reporting'), { onlyInDb2: ['SCHEMA reporting'] });
  });

  it('a partition added', async () => {
    const result = await compare("CREATE TABLE store.sale_2026 PARTITION OF store.sale FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')");
    const keys = keysOf(result);
    expect(keys.changed).toEqual([]);
    expect(keys.onlyInDb1).toEqual([]);
    expect(keys.onlyInDb2).toContain('TABLE store.sale_2026');
    expect(keys.onlyInDb2).toContain('TABLE ATTACH store.sale_2026');
    expect(keys.onlyInDb2.every((key) => key.includes('sale_2026'))).toBe(true);
  });
});

describe('privileges and owners', () => {
  it('a grant revoked is drift only with --privileges', async () => {
    const change = 'REVOKE SELECT ON store.book FROM bookstore_reader';
    expectSchemaDrift(await compare(change), {});
    // The table's only grant gone: its ACL entry is gone.
    expectSchemaDrift(await compare(change, { aspects: { privileges: true } }), { onlyInDb1: ['ACL TABLE store.book'] });
  });

  it('default privileges changed are drift only with --privileges', async () => {
    const change = 'ALTER DEFAULT PRIVILEGES IN SCHEMA store GRANT INSERT ON TABLES TO bookstore_reader';
    expectSchemaDrift(await compare(change), {});
    expectSchemaDrift(await compare(change, { aspects: { privileges: true } }), { changed: ['DEFAULT ACL store.DEFAULT PRIVILEGES FOR TABLES'] });
  });

  it('an owner changed is never drift, not even with --privileges', async () => {
    const change = 'ALTER TABLE store.review OWNER TO bookstore_owner';
    expectSchemaDrift(await compare(change), {});
    expectSchemaDrift(await compare(change, { aspects: { privileges: true } }), {});
  });
});

describe('data', () => {
  it('immutable reference data: a row changed', async () => {
    const result = await compare("UPDATE store.currency SET name = 'Japanese Yen' WHERE code = 'JPY'");
    expect(keysOf(result)).toEqual({ changed: [], onlyInDb1: [], onlyInDb2: [] });
    const currency = result.data.find((table) => table.table === 'store.currency');
    expect(currency).toMatchObject({
      reasons: ['immutable'],
      status: 'different',
      orderBy: 'primary key',
      rowsOnlyInDb1: [['JPY', 'Yen', '0']],
      rowsOnlyInDb2: [['JPY', 'Japanese Yen', '0']],
    });
  });

  it('--tables rows are compared and listed in key order by the key type (2 before 10)', async () => {
    const authors = 'INSERT INTO store.author (name) SELECT format($$author %s$$, i) FROM generate_series(1, 12) AS i';
    const result = await compare("UPDATE store.author SET name = name || ' (edited)' WHERE id IN (2, 10)", { tables: ['store.author'], setupBoth: authors });
    const author = result.data.find((table) => table.table === 'store.author');
    expect(author).toMatchObject({ reasons: ['requested'], status: 'different', orderBy: 'primary key', ignoredColumns: ['created_at', 'updated_at'] });
    expect(author?.rowsOnlyInDb1.map((row) => row[0])).toEqual(['2', '10']);
    // The diff's rows (context included) in key order: 2 … 5, then 7 … 12, not 1, 10, 11, 12, 2.
    const listed = (author?.diff ?? '').split('\n').filter((line) => /^[ +-][0-9]/.test(line)).map((line) => Number(line.slice(1).split('\t')[0]));
    expect(listed).toEqual([...listed].sort((a, b) => a - b));
    expect(new Set(listed)).toEqual(new Set([1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]));
  });

  it('rows of a table without a primary key are ordered by every column, each as its type', async () => {
    const setup = `SET LOCAL hectic.inheritance_extra_excluded_schemas = '*';
      CREATE TABLE public.reading (shelf integer, note text);
      INSERT INTO public.reading SELECT i % 3, format('n%s', i) FROM generate_series(1, 11) AS i`;
    const result = await compare("UPDATE public.reading SET note = 'x' WHERE note = 'n10'", { tables: ['reading'], setupBoth: setup });
    const reading = result.data.find((table) => table.table === 'public.reading');
    expect(reading?.orderBy).toBe('all columns');
    expect(reading?.diff).toContain(' 0\tn9\n 1\tn1\n-1\tn10\n 1\tn4\n 1\tn7\n+1\tx\n 2\tn11\n');
    expect(reading?.rowsOnlyInDb1).toEqual([['1', 'n10']]);
  });

  it('a --tables name found in neither database is exit 5, before anything is dumped', async () => {
    await expect(compare('SELECT 1', { tables: ['store.no_such_table'] })).rejects.toBeInstanceOf(MissingTableError);
  });
});

// `migrator migrate up all` of 200 migrations (SPEC §13: ≤ 1 s, and ≤ 0.9 × dbmate's
// `up` of the same migrations on the same cluster; the shell tool took about 11 s).
// The down case (31-…) shares this setup. The migrations are a schema's typical life in
// groups of four: create a table, add a column, add an index, add a function, so the run
// pays for the bundle's event triggers like real projects do.
//
// The peer, dbmate (npm `dbmate`), runs the same SQL (its `-- migrate:up/down` format)
// against a database of the same cluster that holds the same bundle — the migrations
// inherit hectic.created_at, and the event triggers fire for both. Each run starts both
// from a fresh copy of one template database.
import fs from 'node:fs';
import path from 'node:path';
import { bin, peerTarget, ROOT, run, secondsOf, startCluster, tempDir } from '../lib.mjs';

export const MIGRATION_COUNT = 200;

const TEMPLATE = 'bench_template';
const OURS = 'bench_ours';
const PEER = 'bench_dbmate';

/** [name, up.sql, down.sql] of the i-th migration (0-based). */
function migrationContent(i) {
  const t = `public.bench_${Math.floor(i / 4)}`;
  switch (i % 4) {
    case 0:
      return ['create-table', `CREATE TABLE ${t} (id bigint NOT NULL, label text) INHERITS (hectic.created_at);\n`, `DROP TABLE ${t};\n`];
    case 1:
      return ['add-column', `ALTER TABLE ${t} ADD COLUMN note text;\n`, `ALTER TABLE ${t} DROP COLUMN note;\n`];
    case 2:
      return ['add-index', `CREATE INDEX ON ${t} (id);\n`, `DROP INDEX public.bench_${Math.floor(i / 4)}_id_idx;\n`];
    default:
      return ['add-function', `CREATE FUNCTION ${t}_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM ${t}';\n`, `DROP FUNCTION ${t}_count();\n`];
  }
}

/** The same URL with another database. */
function urlFor(url, database) {
  return url.replace(/@\/[^?]*\?/, `@/${database}?`);
}

/** dbmate's spelling of a socket URL: postgres://USER@/DB?socket=DIR&port=P&sslmode=disable. */
function dbmateUrl(exports, database) {
  return `postgres://${encodeURIComponent(exports.POSTGRESQL_USER)}@/${database}?socket=${encodeURIComponent(exports.POSTGRESQL_HOST)}&port=${exports.POSTGRESQL_PORT}&sslmode=disable`;
}

function psql(state, database, ...commands) {
  return run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', urlFor(state.url, database), ...commands.flatMap((sql) => ['-c', sql])]);
}

/** Fresh copies of the template for both tools (not timed). */
async function freshDatabases(state) {
  await psql(state, 'postgres', `DROP DATABASE IF EXISTS ${OURS}`, `DROP DATABASE IF EXISTS ${PEER}`, `CREATE DATABASE ${OURS} TEMPLATE ${TEMPLATE}`, `CREATE DATABASE ${PEER} TEMPLATE ${TEMPLATE}`);
}

/** A cluster made by postgres-init, 200 migrations in both formats, the template database. */
export async function setupMigrations() {
  const dir = tempDir('db-tool-bench-migrate-');
  const { env, exported: exports } = await startCluster(dir);
  const url = exports.PGURL;
  const migrations = path.join(dir, 'migration');
  const dbmateDir = path.join(dir, 'dbmate');
  fs.mkdirSync(dbmateDir);
  for (let i = 0; i < MIGRATION_COUNT; i += 1) {
    const [kind, up, down] = migrationContent(i);
    const version = `20240101${String(i + 1).padStart(6, '0')}`;
    fs.mkdirSync(path.join(migrations, `${version}-${kind}`), { recursive: true });
    fs.writeFileSync(path.join(migrations, `${version}-${kind}`, 'up.sql'), up);
    fs.writeFileSync(path.join(migrations, `${version}-${kind}`, 'down.sql'), down);
    fs.writeFileSync(path.join(dbmateDir, `${version}_${kind.replace(/-/g, '_')}.sql`), `-- migrate:up\n${up}\n-- migrate:down\n${down}`);
  }
  const state = { dir, env, url, exports, migrations, dbmateDir, args: ['-u', urlFor(url, OURS), '-d', migrations] };
  await psql(state, 'postgres', `CREATE DATABASE ${TEMPLATE}`);
  await run(bin('migrator'), ['-u', urlFor(url, TEMPLATE), 'init'], { HECTIC_LOG: 'warn' });
  // dbmate's own bookkeeping table, made here so it obeys the inheritance rule too.
  await psql(state, TEMPLATE, 'CREATE TABLE public.schema_migrations (version varchar(128) PRIMARY KEY) INHERITS (hectic.created_at)');
  await freshDatabases(state);
  return state;
}

export function migrator(state, ...args) {
  return run(bin('migrator'), [...state.args, ...args], { HECTIC_LOG: 'warn' });
}

export function dbmate(state, ...args) {
  return run(path.join(ROOT, 'node_modules', '.bin', 'dbmate'), ['--url', dbmateUrl(state.exports, PEER), '--migrations-dir', state.dbmateDir, '--no-dump-schema', ...args]);
}

export async function teardownMigrations(state) {
  await run(bin('postgres-cleanup'), [], state.env);
  fs.rmSync(state.dir, { recursive: true, force: true });
}

const peerTimes = [];

export default {
  name: `migrate up ${MIGRATION_COUNT}`,
  runs: 7,
  peerName: `peer: dbmate up ${MIGRATION_COUNT}`,
  peerTimes,
  // SPEC §13: ≤ 1 s, and ≤ 0.9 × dbmate's median in the same run.
  get targetSeconds() {
    return Math.min(1, peerTarget(peerTimes, 0.9) ?? 1);
  },
  setup: setupMigrations,
  // Fresh copies for both, then dbmate (timed here), then ours (timed by run.mjs): both
  // see the same machine and start from the same state.
  async beforeEach(state) {
    await freshDatabases(state);
    peerTimes.push(await secondsOf(() => dbmate(state, 'up')));
  },
  run: (state) => migrator(state, 'migrate', 'up', 'all'),
  teardown: teardownMigrations,
};

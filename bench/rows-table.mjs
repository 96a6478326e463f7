// `database diff --tables` on a large table (issue 22): R rows, one of them changed on
// the DB2 side. Timed: the comparison alone (bench/compare-rows.mjs, a process of its
// own, the report rendered too). Its floor, measured before each run: what a shell
// script pays for the same answer, 2 × `\copy (SELECT * FROM item ORDER BY id)` into
// files, then `cmp`. Targets: ≤ 2 × that floor, node's peak RSS ≤ 200 MB at any R.
import fs from 'node:fs';
import path from 'node:path';
import { median, ROOT, run, secondsOf, startCluster, tempDir } from './lib.mjs';

const TABLE = 'item';

function urlFor(url, database) {
  return url.replace(/@\/[^?]*\?/, `@/${database}?`);
}

function psql(url, ...commands) {
  return run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...commands.flatMap((sql) => ['-c', sql])]);
}

async function copyToFile(url, file) {
  await psql(url, `\\copy (SELECT * FROM ${TABLE} ORDER BY id) TO '${file}'`);
}

/** A bench case comparing two copies of a table of `rows` rows with one row changed. */
export function rowsCase({ name, rows, runs, onlyWhenNamed = false }) {
  const peerTimes = [];
  const peaks = [];
  const state = {};
  return {
    name,
    runs,
    onlyWhenNamed,
    peerName: `floor: 2×COPY+cmp (${name.match(/\(([^)]*)\)/)?.[1] ?? rows})`,
    peerTimes,
    /** Printed after the table: memory, and time against this case's own floor. */
    notes() {
      if (peaks.length === 0) return [];
      return [`${name}: node peak RSS ${Math.max(...peaks)} MB (target ≤ 200 MB); floor median ${median(peerTimes).toFixed(3)}s (target ≤ 2 × floor)`];
    },
    async setup() {
      state.dir = tempDir('db-tool-bench-rows-');
      const { env, exported } = await startCluster(state.dir);
      state.env = env;
      state.url = exported.PGURL;
      const admin = urlFor(state.url, 'postgres');
      await psql(admin, 'DROP DATABASE IF EXISTS rows_db1', 'DROP DATABASE IF EXISTS rows_db2', 'CREATE DATABASE rows_db1');
      state.db1 = urlFor(state.url, 'rows_db1');
      state.db2 = urlFor(state.url, 'rows_db2');
      await psql(
        state.db1,
        'SET maintenance_work_mem = \'256MB\'',
        `CREATE TABLE ${TABLE} (id bigint NOT NULL, name text NOT NULL, price numeric(12,2), stock integer, updated date)`,
        `INSERT INTO ${TABLE} SELECT i, 'item ' || i, (i % 100000) / 100.0, i % 97, date '2020-01-01' + (i % 2000) FROM generate_series(1, ${rows}) AS i`,
        `ALTER TABLE ${TABLE} ADD PRIMARY KEY (id)`,
        `VACUUM ANALYZE ${TABLE}`,
      );
      await psql(admin, 'CREATE DATABASE rows_db2 TEMPLATE rows_db1');
      await psql(state.db2, `UPDATE ${TABLE} SET price = price + 1 WHERE id = ${Math.floor(rows / 2)}`, `VACUUM ${TABLE}`);
      state.files = [path.join(state.dir, 'db1.copy'), path.join(state.dir, 'db2.copy')];
      return state;
    },
    async beforeEach() {
      const seconds = await secondsOf(async () => {
        await copyToFile(state.db1, state.files[0]);
        await copyToFile(state.db2, state.files[1]);
        const cmp = await run('cmp', state.files, {}, { allowFailure: true });
        if (cmp.code !== 1) throw new Error(`cmp should find the changed row, exited ${cmp.code}`);
      });
      peerTimes.push(seconds);
      for (const file of state.files) fs.rmSync(file, { force: true });
    },
    async run() {
      const result = await run('node', [path.join(ROOT, 'bench', 'compare-rows.mjs'), state.db1, state.db2, TABLE]);
      const found = JSON.parse(result.stdout);
      if (found.rowsDb1 !== rows || found.onlyInDb1 !== 1 || found.onlyInDb2 !== 1) throw new Error(`wrong answer: ${result.stdout}`);
      peaks.push(found.peakRssMb);
    },
    async teardown() {
      if (!state.dir) return;
      await run(path.join(ROOT, 'bin', 'database'), ['cleanup'], state.env, { allowFailure: true }); // the spares in RAM too
      fs.rmSync(state.dir, { recursive: true, force: true });
    },
  };
}

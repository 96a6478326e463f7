// The schema comparison's own work at 5,000 tables (issue 22 §3): splitting two
// pg_dump texts into objects, normalising them and comparing — pg_dump itself left out
// (generated dumps in pg_dump's format, one table changed in DB2's). Timed: 5,000 tables
// of the plain shape (six objects per table). Also measured, before each run: 1,000
// tables, and both sizes of another shape (wide tables of 50 columns, each with a view
// of all its columns, a PL/pgSQL function and a comment). The note prints each shape's
// growth exponent log(t5000 / t1000) / log(5), target ≤ 1.0, from the best run of each.
//
// Fair to both sizes:
// - A 1,000-table sample compares five different pairs of dumps in a row (the same
//   number of tables, and of dump text, as one 5,000-table sample) and counts a fifth
//   of its time. A single comparison of 1,000 tables (about 30 ms) allocates less than
//   V8's young generation holds: the best of 7 was then a sample that no garbage
//   collection fell into, its garbage collected during the next sample, while every
//   5,000-table sample pays for its own.
// - Both sizes and shapes are run once before timing, so the JIT is warm for each.
// - Each sample starts on a collected heap (`npm run bench` runs node with --expose-gc).
//   Else a sample paid for the garbage the sample before it left: another shape's or
//   size's, as the order of the samples had it.
// - A sample splits all its pairs, then compares them: the objects of five 1,000-table
//   pairs are alive together, as those of one 5,000-table pair are. The note gives each
//   phase's CPU exponent too (splitting and normalising; the comparison).
import { createRequire } from 'node:module';
import { median } from '../lib.mjs';

const require = createRequire(import.meta.url);
const { splitDump } = require('../../dist/diff/schema-dump.js');
const { compareSchemas } = require('../../dist/diff/compare-schema.js');

const PREAMBLE = `--
-- PostgreSQL database dump
--

\\restrict abcdefghijklmnopqrstuvwxyz0123456789

-- Dumped from database version 15.14
-- Dumped by pg_dump version 15.14

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

`;

const FOOTER = '--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abcdefghijklmnopqrstuvwxyz0123456789\n\n';

function header(name, type, schema = 'public') {
  return `--\n-- Name: ${name}; Type: ${type}; Schema: ${schema}; Owner: -\n--\n\n`;
}

/** A table with a sequence, its default, primary key and an index: six objects. */
function plainTable(t, changed) {
  const extra = changed ? ',\n    extra integer' : '';
  return [
    header(t, 'TABLE'),
    `CREATE TABLE public.${t} (\n    id bigint NOT NULL,\n    name text NOT NULL,\n    price numeric(12,2),\n    created_at timestamp with time zone DEFAULT now() NOT NULL${extra}\n);\n\n\n`,
    header(`${t}_id_seq`, 'SEQUENCE'),
    `CREATE SEQUENCE public.${t}_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\n\n`,
    header(`${t}_id_seq`, 'SEQUENCE OWNED BY'),
    `ALTER SEQUENCE public.${t}_id_seq OWNED BY public.${t}.id;\n\n\n`,
    header(`${t} id`, 'DEFAULT'),
    `ALTER TABLE ONLY public.${t} ALTER COLUMN id SET DEFAULT nextval('public.${t}_id_seq'::regclass);\n\n\n`,
    header(`${t} ${t}_pkey`, 'CONSTRAINT'),
    `ALTER TABLE ONLY public.${t}\n    ADD CONSTRAINT ${t}_pkey PRIMARY KEY (id);\n\n\n`,
    header(`${t}_name_idx`, 'INDEX'),
    `CREATE INDEX ${t}_name_idx ON public.${t} USING btree (name);\n\n\n`,
  ];
}

const WIDE_COLUMNS = Array.from({ length: 50 }, (_, i) => `c${i}`);

/** A table of 50 columns with a view of them all, a PL/pgSQL function and a comment. */
function wideTable(t, changed) {
  const columns = WIDE_COLUMNS.map((c, i) => `    ${c} ${i % 3 === 0 ? 'text' : i % 3 === 1 ? 'integer' : 'numeric(12,2)'}${i < 2 ? ' NOT NULL' : ''}`);
  const viewColumns = WIDE_COLUMNS.map((c, i) => (i === 0 ? ` SELECT ${t}.${c},` : `    ${t}.${c}${i < WIDE_COLUMNS.length - 1 ? ',' : ''}`));
  const threshold = changed ? 100 : 10;
  return [
    "SET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n",
    header(t, 'TABLE'),
    `CREATE TABLE public.${t} (\n${columns.join(',\n')}\n);\n\n\n`,
    header(`TABLE ${t}`, 'COMMENT'),
    `COMMENT ON TABLE public.${t} IS 'generated table ${t}';\n\n\n`,
    header(`${t}_v`, 'VIEW'),
    `CREATE VIEW public.${t}_v AS\n${viewColumns.join('\n')}\n   FROM public.${t}\n  WHERE (${t}.c1 > 0);\n\n\n`,
    header(`${t}_touch()`, 'FUNCTION'),
    `CREATE FUNCTION public.${t}_touch() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\n  -- keep c1 positive\n  IF NEW.c1 < ${threshold} THEN\n    NEW.c1 := ${threshold};\n  END IF;\n\n  SET LOCAL search_path = public;\n  RETURN NEW;\nEND $$;\n\n\n`,
  ];
}

const SHAPES = { plain: plainTable, wide: wideTable };

/** A schema-only dump of `tables` tables of one shape; table `changed` differs. */
export function generateDump(tables, changed = -1, shape = 'plain') {
  const parts = [PREAMBLE];
  for (let i = 0; i < tables; i += 1) parts.push(...SHAPES[shape](`t_${i}`, i === changed));
  parts.push(FOOTER);
  return parts.join('');
}

function checkResult(result) {
  if (result.changed.length !== 1 || result.onlyInDb1.length + result.onlyInDb2.length !== 0) throw new Error('wrong answer');
}

function compareDumps(dumps) {
  checkResult(compareSchemas(splitDump(dumps.db1), splitDump(dumps.db2)));
}

/** Wall and CPU seconds of `work`; CPU counts every thread of the process (the GC's too). */
function timed(work) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  work();
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: (performance.now() - started) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const SMALL = 1000;
const LARGE = 5000;
const BATCH = LARGE / SMALL;
/** Wall and CPU seconds per sample, by shape and size (a small sample's per comparison). */
const times = { plain: { small: [], large: [] }, wide: { small: [], large: [] } };

/** `count` pairs of dumps of `tables` tables, each pair its own strings. */
function dumpPairs(tables, count, shape) {
  return Array.from({ length: count }, () => ({ db1: generateDump(tables, -1, shape), db2: generateDump(tables, Math.floor(tables / 2), shape) }));
}

/** Splitting (and normalising) every pair, then comparing them: each phase timed on its own too. */
function measure(state, shape, size) {
  const pairs = state[shape][size];
  globalThis.gc?.();
  let objects = [];
  const split = timed(() => {
    objects = pairs.map((dumps) => [splitDump(dumps.db1), splitDump(dumps.db2)]);
  });
  const compared = timed(() => objects.forEach(([db1, db2]) => checkResult(compareSchemas(db1, db2))));
  const per = (value) => value / pairs.length;
  times[shape][size].push({
    wall: per(split.wall + compared.wall),
    cpu: per(split.cpu + compared.cpu),
    splitCpu: per(split.cpu),
    compareCpu: per(compared.cpu),
  });
}

/** The growth exponent from the best sample of each size. */
function exponent(small, large, clock) {
  const [best1, best2] = [Math.min(...small.map((t) => t[clock])), Math.min(...large.map((t) => t[clock]))];
  return { best1, best2, exponent: Math.log(best2 / best1) / Math.log(LARGE / SMALL) };
}

export default {
  name: 'schema normalise+compare (5000 t)',
  runs: 7,
  setup() {
    const state = {};
    for (const shape of Object.keys(SHAPES)) {
      state[shape] = { small: dumpPairs(SMALL, BATCH, shape), large: dumpPairs(LARGE, 1, shape) };
      state[shape].small.forEach(compareDumps);
      state[shape].large.forEach(compareDumps);
    }
    return state;
  },
  beforeEach(state) {
    measure(state, 'wide', 'small');
    measure(state, 'wide', 'large');
    measure(state, 'plain', 'small');
  },
  run(state) {
    measure(state, 'plain', 'large');
  },
  notes() {
    return Object.entries(times).map(([shape, { small, large }]) => {
      const wall = exponent(small, large, 'wall');
      const cpu = exponent(small, large, 'cpu');
      const medians = `${median(small.map((t) => t.wall)).toFixed(3)}s, ${median(large.map((t) => t.wall)).toFixed(3)}s`;
      return (
        `schema normalise+compare, ${shape} tables: best of ${small.length}: ${SMALL} tables ${wall.best1.toFixed(3)}s (per comparison, ${BATCH} in a row), ` +
        `${LARGE} tables ${wall.best2.toFixed(3)}s, exponent ${wall.exponent.toFixed(2)}; in CPU time ${cpu.best1.toFixed(3)}s, ${cpu.best2.toFixed(3)}s, ` +
        `exponent ${cpu.exponent.toFixed(2)} (target ≤ 1.0); wall medians ${medians}; ` +
        `CPU exponent of the split and normalisation ${exponent(small, large, 'splitCpu').exponent.toFixed(2)}, of the comparison ${exponent(small, large, 'compareCpu').exponent.toFixed(2)}`
      );
    });
  },
};

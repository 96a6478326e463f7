// The schema comparison's own work at 5,000 tables (issue 22 §3): splitting two
// pg_dump texts into objects, normalising them and comparing — pg_dump itself left out
// (generated dumps in pg_dump's format, about five objects per table, one table
// changed in DB2's). Timed: 5,000 tables. Also measured, before each run: 1,000 tables;
// the note prints the growth exponent log(t5000 / t1000) / log(5), target ≤ 1.0, from
// the best run of each size (a busy machine's stalls hit a 0.1 s run harder than a 1 s one).
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

function header(name, type, schema = 'public') {
  return `--\n-- Name: ${name}; Type: ${type}; Schema: ${schema}; Owner: -\n--\n\n`;
}

/** A schema-only dump of `tables` tables; `changed` gets one more column. */
export function generateDump(tables, changed = -1) {
  const parts = [PREAMBLE];
  for (let i = 0; i < tables; i += 1) {
    const t = `t_${i}`;
    const extra = i === changed ? ',\n    extra integer' : '';
    parts.push(
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
    );
  }
  parts.push('--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abcdefghijklmnopqrstuvwxyz0123456789\n\n');
  return parts.join('');
}

function compareDumps(dumps) {
  const result = compareSchemas(splitDump(dumps.db1), splitDump(dumps.db2));
  if (result.changed.length !== 1 || result.onlyInDb1.length + result.onlyInDb2.length !== 0) throw new Error('wrong answer');
}

function timed(work) {
  const started = performance.now();
  work();
  return (performance.now() - started) / 1000;
}

const small = [];
const large = [];
const SIZES = { small: 1000, large: 5000 };

export default {
  name: 'schema normalise+compare (5000 t)',
  runs: 7,
  setup() {
    const dumps = (n) => ({ db1: generateDump(n), db2: generateDump(n, Math.floor(n / 2)) });
    const state = { small: dumps(SIZES.small), large: dumps(SIZES.large) };
    compareDumps(state.small); // warms the JIT for both sizes alike
    return state;
  },
  beforeEach(state) {
    small.push(timed(() => compareDumps(state.small)));
  },
  run(state) {
    large.push(timed(() => compareDumps(state.large)));
  },
  notes() {
    const [best1, best2] = [Math.min(...small), Math.min(...large)];
    const exponent = Math.log(best2 / best1) / Math.log(SIZES.large / SIZES.small);
    return [`schema normalise+compare: best of ${small.length}: ${SIZES.small} tables ${best1.toFixed(3)}s, ${SIZES.large} tables ${best2.toFixed(3)}s, exponent ${exponent.toFixed(2)} (target ≤ 1.0); medians ${median(small).toFixed(3)}s, ${median(large).toFixed(3)}s`];
  },
};

/** The schema side of `database diff` without a database: normalising, splitting, comparing. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSchemas, schemasDiffer, type SchemaComparison } from '../src/diff/compare-schema.js';
import { isSessionSetting, isVolatileLine, normalizeObjectText } from '../src/diff/normalize.js';
import { mergeRepeatedKeys, objectKey, splitDump, type SchemaObject } from '../src/diff/schema-dump.js';
import { ROOT } from './helpers/env.js';

const DUMPS = path.join(ROOT, 'test', 'fixtures', 'diff', 'dumps');
const sample = fs.readFileSync(path.join(DUMPS, 'sample.sql'), 'utf8');
const verbose = fs.readFileSync(path.join(DUMPS, 'sample-verbose.sql'), 'utf8');

/** The sample as another pg_dump run would print it: new \restrict key, another version. */
function anotherRun(text: string): string {
  return text
    .replace(/^(\\(?:un)?restrict) \S+$/gm, '$1 Zk3v9QpX0aLmN8bC7dE6fG5hJ4kL3mN2pQ1rS0tU9vW8xY7zA6bC5dE4fG3hJ2k')
    .replace(/^-- Dumped (from database|by pg_dump) version .*$/gm, '-- Dumped $1 version 17.6 (Nix)');
}

/** Moves the blocks of a dump around (pg_dump's order depends on OIDs and dependencies). */
function reorder(text: string): string {
  const blocks = text.split(/\n(?=--\n-- Name: )/);
  const [preamble, ...objects] = blocks;
  const footerIndex = objects.length - 1;
  const last = objects[footerIndex] ?? '';
  const cut = last.indexOf('\n--\n-- PostgreSQL database dump complete');
  const lastObject = last.slice(0, cut);
  const footer = last.slice(cut);
  const body = [...objects.slice(0, footerIndex), lastObject].reverse();
  return [preamble, ...body].join('\n') + footer;
}

function keys(objects: readonly SchemaObject[]): string[] {
  return objects.map((object) => object.key).sort();
}

describe('normalize', () => {
  it('recognises volatile lines', () => {
    expect(isVolatileLine('\\restrict abc123')).toBe(true);
    expect(isVolatileLine('\\unrestrict abc123')).toBe(true);
    expect(isVolatileLine('-- Dumped from database version 15.18')).toBe(true);
    expect(isVolatileLine('-- Dumped by pg_dump version 17.6')).toBe(true);
    expect(isVolatileLine('-- TOC entry 846 (class 1247 OID 16401)')).toBe(true);
    expect(isVolatileLine('-- Dependencies: 217')).toBe(true);
    expect(isVolatileLine('-- Started on 2026-01-01 00:00:00 UTC')).toBe(true);
    expect(isVolatileLine('CREATE TABLE public.t (')).toBe(false);
    expect(isVolatileLine('-- a comment inside a function body')).toBe(false);
  });

  it('recognises session settings', () => {
    expect(isSessionSetting("SET default_tablespace = '';")).toBe(true);
    expect(isSessionSetting('SET default_table_access_method = heap;')).toBe(true);
    expect(isSessionSetting("SELECT pg_catalog.set_config('search_path', '', false);")).toBe(true);
    expect(isSessionSetting('    SET search_path TO pg_catalog')).toBe(false);
  });

  it('trims trailing whitespace and collapses blank-line runs', () => {
    expect(normalizeObjectText('\na  \n\n\nb\t\n\n')).toBe('a\n\nb');
  });

  it('drops SET lines trailing an object but keeps those inside a body', () => {
    const text = normalizeObjectText(
      [
        'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$',
        'BEGIN',
        "SET x = 'y';",
        'END $$;',
        '',
        '',
        "SET default_tablespace = '';",
        '',
        'SET default_table_access_method = heap;',
        '',
      ].join('\n'),
    );
    expect(text).toBe("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\nSET x = 'y';\nEND $$;");
  });
});

/** The normaliser's rules applied line by line, plainly: the oracle for the offset-based one. */
function normalizeByLines(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    if (isVolatileLine(raw)) continue;
    const line = raw.replace(/[ \t\r]+$/, '');
    if (line === '' && (lines.length === 0 || lines[lines.length - 1] === '')) continue;
    lines.push(line);
  }
  while (lines.length > 0 && (lines[lines.length - 1] === '' || isSessionSetting(lines[lines.length - 1] ?? ''))) lines.pop();
  return lines.join('\n');
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function randomIntegers(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % below;
  };
}

describe('normalizeObjectText on a part of a dump', () => {
  const LINES = [
    '',
    '',
    '  ',
    '\t',
    'CREATE TABLE public.t (',
    '    id integer,  ',
    '    b text\r',
    ');',
    "SET default_tablespace = '';",
    "SET x = 'y';  ",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    '\\restrict abc',
    '-- TOC entry 12 (class 1259 OID 16386)',
    '-- a comment that stays',
    '-',
    '$$;',
  ];

  it('reads only its part of the text', () => {
    const text = 'SET a = 1;\n\nCREATE TABLE t ();\n\n\nSET b = 2;\nnext object';
    const start = text.indexOf('\n') + 1;
    expect(normalizeObjectText(text, start, text.lastIndexOf('\n'))).toBe('CREATE TABLE t ();');
    expect(normalizeObjectText(text, start, start)).toBe('');
  });

  it('gives what the rules give line by line, on generated texts', () => {
    const random = randomIntegers(22);
    for (let round = 0; round < 3000; round += 1) {
      const lines = Array.from({ length: random(14) }, () => LINES[random(LINES.length)] ?? '');
      const body = lines.join(random(4) === 0 ? '\r\n' : '\n');
      const before = random(2) === 0 ? '' : 'before\n';
      const after = random(2) === 0 ? '' : '\nafter';
      const text = before + body + after;
      expect(normalizeObjectText(text, before.length, before.length + body.length), JSON.stringify(body)).toBe(normalizeByLines(body));
    }
  });
});

describe('splitDump', () => {
  const objects = splitDump(sample);

  it('keys objects by type, schema and name', () => {
    expect(keys(objects)).toEqual([
      'COMMENT TABLE public.t',
      'CONSTRAINT public.t t_pkey',
      'DEFAULT public.t id',
      'FUNCTION public.f(integer)',
      'INDEX public.t_name',
      'SEQUENCE OWNED BY public.t_id_seq',
      'SEQUENCE public.t_id_seq',
      'TABLE public.t',
      'TYPE public.mood',
      'VIEW public.v',
    ]);
  });

  it('keeps the SQL of each object without preamble, SET lines or footer', () => {
    const table = objects.find((object) => object.key === 'TABLE public.t');
    expect(table?.sql).toBe("CREATE TABLE public.t (\n    id integer NOT NULL,\n    name text DEFAULT 'x'::text NOT NULL\n);");
    const all = objects.map((object) => object.sql).join('\n');
    expect(all).not.toMatch(/restrict|Dumped|^SET |dump complete/m);
    const index = objects.find((object) => object.key === 'INDEX public.t_name');
    expect(index?.sql).toBe('CREATE INDEX t_name ON public.t USING btree (name);');
  });

  it('parses verbose dumps (TOC entry lines) the same way', () => {
    expect(splitDump(verbose)).toEqual(objects);
  });

  it('names objects outside a schema without one', () => {
    expect(objectKey({ type: 'EXTENSION', schema: null, name: 'pgcrypto' })).toBe('EXTENSION pgcrypto');
    expect(objectKey({ type: 'COMMENT', schema: null, name: 'EXTENSION pgcrypto' })).toBe('COMMENT EXTENSION pgcrypto');
    expect(objectKey({ type: 'COMMENT', schema: 'public', name: 'COLUMN t.name' })).toBe('COMMENT COLUMN public.t.name');
  });

  it('keeps two entries with one key, and merges them in a stable order on request', () => {
    const dump = (first: string, second: string): string =>
      `--\n-- Name: x; Type: RULE; Schema: public; Owner: -\n--\n\n${first}\n\n\n--\n-- Name: x; Type: RULE; Schema: public; Owner: -\n--\n\n${second}\n`;
    expect(splitDump(dump('A;', 'B;')).map((object) => object.sql)).toEqual(['A;', 'B;']);
    expect(mergeRepeatedKeys(splitDump(dump('A;', 'B;')))).toEqual(mergeRepeatedKeys(splitDump(dump('B;', 'A;'))));
    expect(mergeRepeatedKeys(splitDump(dump('B;', 'A;')))).toEqual([expect.objectContaining({ key: 'RULE public.x', sql: 'A;\n\nB;' })]);
  });
});

describe('compareSchemas', () => {
  it('finds nothing between two runs of pg_dump in another order with new keys', () => {
    const comparison = compareSchemas(splitDump(sample), splitDump(reorder(anotherRun(sample))));
    expect(schemasDiffer(comparison)).toBe(false);
    expect(comparison.identical).toBe(10);
  });

  it('reports objects only on one side and changed objects, sorted', () => {
    const db1 = splitDump(sample);
    const db2 = splitDump(
      sample
        .replace("name text DEFAULT 'x'::text NOT NULL", "name text DEFAULT 'x'::text NOT NULL,\n    price integer")
        .replace('AS $$ select a+1 $$;', 'AS $$ select a+2 $$;')
        .replace(/--\n-- Name: t_name; Type: INDEX[^]*?btree \(name\);\n/, ''),
    );
    const comparison = compareSchemas(db1, db2);
    expect(comparison.onlyInDb1.map((object) => object.key)).toEqual(['INDEX public.t_name']);
    expect(comparison.onlyInDb2).toEqual([]);
    expect(comparison.changed.map((object) => object.key)).toEqual(['FUNCTION public.f(integer)', 'TABLE public.t']);
    expect(comparison.changed[0]?.db2).toContain('a+2');
  });

  it('reports what only DB2 has, sorted by schema, name and type, whatever the dump order', () => {
    const object = (type: string, schema: string | null, name: string): SchemaObject => ({ key: objectKey({ type, schema, name }), type, schema, name, sql: `-- ${name}` });
    const shared = object('TABLE', 'public', 't');
    const extra = [object('VIEW', 'public', 'b'), object('EXTENSION', null, 'pgcrypto'), object('TABLE', 'app', 'z'), object('INDEX', 'public', 'a'), object('TABLE', 'public', 'a')];
    const comparison = compareSchemas([shared], [...extra, shared]);
    expect(comparison.onlyInDb2.map((o) => o.key)).toEqual(['EXTENSION pgcrypto', 'TABLE app.z', 'INDEX public.a', 'TABLE public.a', 'VIEW public.b']);
    expect(comparison.onlyInDb1).toEqual([]);
    expect(comparison.identical).toBe(1);
  });

  const entry = (name: string, sql: string): SchemaObject => ({ key: objectKey({ type: 'TABLE', schema: 'public', name }), type: 'TABLE', schema: 'public', name, sql });
  const keysOf = (objects: readonly { key: string }[]): string[] => objects.map((object) => object.key);

  it('pairs objects whatever the shift between the two lists: one object more on a side moves all that follow', () => {
    const db1 = Array.from({ length: 50 }, (_, i) => entry(`t${i}`, `v${i}`));
    const db2 = [entry('new', 'n'), ...db1.slice(0, 25), entry('t25', 'changed'), ...db1.slice(26, 40), ...db1.slice(41)];
    const comparison = compareSchemas(db1, db2);
    expect(keysOf(comparison.onlyInDb2)).toEqual(['TABLE public.new']);
    expect(keysOf(comparison.onlyInDb1)).toEqual(['TABLE public.t40']);
    expect(comparison.changed.map((object) => [object.key, object.db1, object.db2])).toEqual([['TABLE public.t25', 'v25', 'changed']]);
    expect(comparison.identical).toBe(48);
  });

  it('compares a key that comes twice by all its texts, in any order on either side', () => {
    const [a, b, c] = [entry('x', 'A'), entry('x', 'B'), entry('y', 'Y')];
    expect(schemasDiffer(compareSchemas([a, b, c], [b, a, c]))).toBe(false);
    expect(schemasDiffer(compareSchemas([a, c, b], [b, c, a]))).toBe(false);
    expect(compareSchemas([a, b, c], [a, b, c]).identical).toBe(3);
    const oneSide = compareSchemas([a, b, c], [a, c]);
    expect(oneSide.changed.map((object) => [object.key, object.db1, object.db2])).toEqual([['TABLE public.x', 'A\n\nB', 'A']]);
    expect(oneSide.identical).toBe(1);
    expect(keysOf(compareSchemas([a, a], [a]).changed)).toEqual(['TABLE public.x']);
  });

  it('finds what a keyed comparison of the merged objects finds, on random lists', () => {
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    /** The reference: one object per key on each side, then a lookup by key. */
    const byKey = (db1: SchemaObject[], db2: SchemaObject[]): string[] => {
      const other = new Map(mergeRepeatedKeys(db2).map((object) => [object.key, object.sql]));
      const differences: string[] = [];
      for (const object of mergeRepeatedKeys(db1)) {
        if (!other.has(object.key)) differences.push(`-${object.key}`);
        else if (other.get(object.key) !== object.sql) differences.push(`~${object.key}`);
        other.delete(object.key);
      }
      return [...differences, ...[...other.keys()].map((key) => `+${key}`)].sort();
    };
    const found = (comparison: SchemaComparison): string[] =>
      [...comparison.onlyInDb1.map((o) => `-${o.key}`), ...comparison.changed.map((o) => `~${o.key}`), ...comparison.onlyInDb2.map((o) => `+${o.key}`)].sort();
    for (let round = 0; round < 300; round += 1) {
      const db1 = Array.from({ length: random(30) }, () => entry(`t${random(25)}`, `v${random(2)}`));
      const db2 = db1.filter(() => random(10) > 0).map((object) => (random(10) === 0 ? entry(object.name, `w${random(2)}`) : object));
      for (let swaps = random(4); swaps > 0; swaps -= 1) {
        const [i, j] = [random(db2.length), random(db2.length)];
        [db2[i], db2[j]] = [db2[j]!, db2[i]!];
      }
      for (let added = random(3); added > 0; added -= 1) db2.splice(random(db2.length + 1), 0, entry(`t${random(30)}`, `v${random(2)}`));
      expect(found(compareSchemas(db1, db2)), `round ${round}`).toEqual(byKey(db1, db2));
    }
  });
});

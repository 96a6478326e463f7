/** The streamed row comparison of `database diff` without a database: order, COPY text, merge, hunks. */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { describe, expect, it } from 'vitest';
import { decodeField, decodeLine, formatRow } from '../src/diff/copy-text.js';
import { lineComparator, linesOf, mergeLines } from '../src/diff/row-merge.js';
import { RowHunks } from '../src/diff/row-hunks.js';
import { compareBpcharText, compareCodePoints, compareFloatText, compareNumericText, orderKindOf, valueComparator } from '../src/diff/row-order.js';

const sign = (n: number): number => Math.sign(n);

describe('row order', () => {
  it('orders integers by value, whatever their width', () => {
    const sorted = ['-9223372036854775808', '-10', '-2', '0', '2', '10', '9223372036854775807'];
    expect([...sorted].reverse().sort(compareNumericText)).toEqual(sorted);
  });

  it('orders numeric by value: scale does not count, NaN last, infinities at the ends', () => {
    const sorted = ['-Infinity', '-10.5', '-2', '-0.001', '0', '0.0001', '1.5', '2', '10', 'Infinity', 'NaN'];
    expect([...sorted].reverse().sort(compareNumericText)).toEqual(sorted);
    expect(compareNumericText('1.0', '1.00')).toBe(0);
    expect(compareNumericText('0.00', '0')).toBe(0);
    expect(compareNumericText('-0.50', '-0.5')).toBe(0);
    expect(sign(compareNumericText('-1.5', '-1.25'))).toBe(-1);
  });

  it('orders floats as PostgreSQL does: NaN above Infinity and equal to itself, -0 = 0', () => {
    const sorted = ['-Infinity', '-1e+300', '-1.5', '0', '1e-300', '3.14', 'Infinity', 'NaN'];
    expect([...sorted].reverse().sort(compareFloatText)).toEqual(sorted);
    expect(compareFloatText('NaN', 'NaN')).toBe(0);
    expect(compareFloatText('-0', '0')).toBe(0);
  });

  it('orders text by code point, as the "C" collation orders UTF-8 bytes', () => {
    // U+1F600 (a surrogate pair in UTF-16) comes after U+FF5E in UTF-8, not before.
    const sorted = ['', 'A', 'B', 'a', 'ab', 'b', 'é', '\uff5e', '\u{1f600}'];
    expect([...sorted].reverse().sort(compareCodePoints)).toEqual(sorted);
    expect(['\u{1f600}', '\uff5e'].sort()).toEqual(['\u{1f600}', '\uff5e']); // what `<` would say
    expect(compareBpcharText('ab  ', 'ab')).toBe(0);
    expect(sign(compareBpcharText('ab ', 'ab\u0001'))).toBe(-1);
  });

  it('puts NULLs last and knows which types it orders itself', () => {
    const compare = valueComparator('integer');
    expect([null, '2', null, '10'].sort(compare)).toEqual(['2', '10', null, null]);
    expect(orderKindOf(20)).toBe('integer');
    expect(orderKindOf(1114)).toBe('text-form'); // timestamp: ordered by its text on both servers
  });
});

describe('COPY text', () => {
  it('decodes what formatRow encodes', () => {
    const row = ['a\tb', null, 'line\nbreak\r', 'back\\slash', '\\N', '\b\f\v', ''];
    const line = formatRow(row);
    expect(line.split('\t')).toHaveLength(row.length);
    expect(decodeLine(line)).toEqual(row);
    expect(decodeField('\\101\\x42')).toBe('AB');
  });

  it('splits a stream into lines across chunk and character boundaries', async () => {
    const bytes = Buffer.from('é1\tx\n2\ty\n3\t€\n');
    const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 7), bytes.subarray(7, 15), bytes.subarray(15)];
    const lines: string[] = [];
    for await (const batch of linesOf((async function* () { yield* chunks; })())) lines.push(...batch);
    expect(lines).toEqual(['é1\tx', '2\ty', '3\t€']);
  });
});

/** A deterministic pseudo-random sequence (tests must not depend on luck). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

async function* batches(lines: readonly string[], size: number): AsyncGenerator<string[]> {
  for (let i = 0; i < lines.length; i += size) yield lines.slice(i, i + size);
}

interface Found {
  equal: string[];
  db1: string[];
  db2: string[];
}

async function merge(db1: readonly string[] | undefined, db2: readonly string[] | undefined, order = lineComparator([{ index: 0, compare: valueComparator('integer') }])): Promise<Found & { counts: { db1Rows: number; db2Rows: number } }> {
  const found: Found = { equal: [], db1: [], db2: [] };
  const counts = await mergeLines(db1 && batches(db1, 7), db2 && batches(db2, 5), order, {
    equal: (line) => found.equal.push(line),
    db1Only: (line) => found.db1.push(line),
    db2Only: (line) => found.db2.push(line),
  });
  return { ...found, counts };
}

describe('merge', () => {
  it('finds added, removed and changed rows by key (2 before 10), and nothing else', async () => {
    const db1 = ['1\ta', '2\tb', '3\tc', '10\td', '11\te'];
    const db2 = ['1\ta', '3\tC', '4\tnew', '10\td', '12\tf'];
    const found = await merge(db1, db2);
    expect(found.equal).toEqual(['1\ta', '10\td']);
    expect(found.db1).toEqual(['2\tb', '3\tc', '11\te']);
    expect(found.db2).toEqual(['3\tC', '4\tnew', '12\tf']);
    expect(found.counts).toEqual({ db1Rows: 5, db2Rows: 5 });
  });

  it('matches a multiset comparison on random tables with duplicates, NULLs and no key', async () => {
    const next = random(7);
    const order = lineComparator([
      { index: 0, compare: valueComparator('integer') },
      { index: 1, compare: valueComparator('text') },
    ]);
    const sortLines = (lines: string[]): string[] => lines.sort(order);
    for (let round = 0; round < 30; round += 1) {
      const pick = (): string => `${Math.floor(next() * 20)}\t${next() < 0.2 ? '\\N' : String.fromCharCode(97 + Math.floor(next() * 3))}`;
      const db1 = Array.from({ length: Math.floor(next() * 60) }, pick);
      const db2 = db1.filter(() => next() > 0.1).concat(Array.from({ length: Math.floor(next() * 5) }, pick));
      const found = await merge(sortLines(db1), sortLines(db2), order);
      const left = new Map<string, number>();
      for (const line of db2) left.set(line, (left.get(line) ?? 0) + 1);
      const missing: string[] = [];
      for (const line of db1) {
        const count = left.get(line) ?? 0;
        if (count > 0) left.set(line, count - 1);
        else missing.push(line);
      }
      expect(found.db1.sort()).toEqual(missing.sort());
      expect(found.db2.sort()).toEqual([...left].flatMap(([line, count]) => Array<string>(count).fill(line)).sort());
    }
  });

  it('reads a side that is absent as no rows', async () => {
    const found = await merge(['1\ta'], undefined);
    expect(found).toMatchObject({ db1: ['1\ta'], db2: [], counts: { db1Rows: 1, db2Rows: 0 } });
  });
});

/** Our hunks for two sorted, distinct line lists, through the merge as the comparison runs it. */
async function hunksOf(db1: string[], db2: string[], limit?: number): Promise<{ text: string; notShown: number }> {
  const parts: string[] = [];
  const hunks = new RowHunks({ limit, onHunk: (text) => parts.push(text) });
  await mergeLines(batches(db1, 4), batches(db2, 4), lineComparator([{ index: 0, compare: valueComparator('integer') }]), {
    equal: (line) => hunks.equal(line),
    db1Only: (line) => hunks.remove(line),
    db2Only: (line) => hunks.add(line),
  });
  hunks.finish();
  return { text: parts.join(''), notShown: hunks.notShown };
}

describe('hunks', () => {
  it('are the hunks jsdiff makes of the whole texts, on random tables', async () => {
    const next = random(11);
    let compared = 0;
    for (let round = 0; round < 40; round += 1) {
      const keys = Array.from({ length: 5 + Math.floor(next() * 60) }, (_, i) => i);
      const db1 = keys.filter(() => next() > 0.08).map((k) => `${k}\tv`);
      const db2 = keys.filter(() => next() > 0.08).map((k) => `${k}\t${next() < 0.05 ? 'w' : 'v'}`);
      const expected = createTwoFilesPatch('a', 'b', `${db1.join('\n')}\n`, `${db2.join('\n')}\n`, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY });
      const body = expected.split('\n').slice(2).join('\n');
      // jsdiff may pair a removed and an added line differently where both orders are minimal: compare where it cannot.
      if (db1.some((line, i) => db2[i] !== undefined && line.split('\t')[0] === db2[i]?.split('\t')[0] && line !== db2[i])) continue;
      expect((await hunksOf(db1, db2)).text).toBe(body);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('stop after the limit and count the rest', async () => {
    const db1 = Array.from({ length: 100 }, (_, i) => `${i}\tv`);
    const db2 = db1.filter((_, i) => i % 10 !== 0);
    const { text, notShown } = await hunksOf(db1, db2, 3);
    expect(text.split('\n').filter((line) => line.startsWith('-'))).toEqual(['-0\tv', '-10\tv', '-20\tv']);
    expect(notShown).toBe(7);
  });

  it('name the line before an empty side, as diff(1) does', async () => {
    const { text } = await hunksOf([], ['1\tv', '2\tv']);
    expect(text).toBe('@@ -0,0 +1,2 @@\n+1\tv\n+2\tv\n');
  });
});

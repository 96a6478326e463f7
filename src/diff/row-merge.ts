/**
 * The merge at the heart of the data comparison: two streams of COPY lines, each in
 * the same order (row-order.ts), walked side by side like the merge step of a merge
 * sort. Equal lines are the same row on both sides; otherwise the smaller key is a row
 * of its side only, and equal keys with different lines are a row changed (the DB1
 * version removed, the DB2 version added). Only the current line of each side is held,
 * so memory does not grow with the table.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { decodeField } from './copy-text.js';
import type { ValueComparator } from './row-order.js';

/** A stream of COPY text as batches of whole lines (one per row). */
export async function* linesOf(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  for await (const chunk of stream) {
    const text = partial + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    if (lines.length > 0) yield lines;
  }
  const rest = partial + decoder.end();
  if (rest !== '') yield [rest];
}

/** A Readable's lines; the stream is destroyed when the reader stops early. */
export function streamLines(stream: Readable): AsyncGenerator<string[]> {
  return linesOf(stream as AsyncIterable<Buffer>);
}

/** One column the rows are ordered by: its field's position in a line and its comparator. */
export interface OrderColumn {
  index: number;
  compare: ValueComparator;
}

/**
 * Compares two COPY lines by `columns` in turn: the ORDER BY the servers ran, computed
 * here (text tiebreaks included, see hasUnequalTextsForEqualValues).
 */
export function lineComparator(columns: readonly OrderColumn[]): (a: string, b: string) => number {
  return (a, b) => {
    const fieldsA = a.split('\t');
    const fieldsB = b.split('\t');
    for (const { index, compare } of columns) {
      const order = compare(decodeField(fieldsA[index] ?? ''), decodeField(fieldsB[index] ?? ''));
      if (order !== 0) return order;
    }
    return 0;
  };
}

/** What the merge found, row by row, in order. */
export interface MergeEvents {
  /** The same row on both sides. */
  equal(line: string): void;
  /** A row of DB1 that DB2 does not have (or has changed: then `changed` is true and `db2` follows). */
  db1Only(line: string, changed: boolean): void;
  db2Only(line: string, changed: boolean): void;
}

/** A side's cursor over its batches of lines. */
class Cursor {
  private batch: string[] = [];
  private at = 0;
  private done = false;
  count = 0;

  constructor(private readonly source: AsyncIterator<string[]> | undefined) {
    if (!source) this.done = true;
  }

  /** The current line, fetching the next batch when this one is used up; undefined at the end. */
  async current(): Promise<string | undefined> {
    while (this.at >= this.batch.length) {
      if (this.done || !this.source) return undefined;
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        return undefined;
      }
      this.batch = next.value;
      this.at = 0;
    }
    return this.batch[this.at];
  }

  /** The current line without waiting, when the batch has one. */
  peek(): string | undefined {
    return this.batch[this.at];
  }

  advance(): void {
    this.at += 1;
    this.count += 1;
  }
}

/**
 * Merges two sorted streams of lines (undefined: the table is absent on that side) and
 * reports each row to `events`; returns the row count of each side.
 */
export async function mergeLines(
  db1: AsyncIterator<string[]> | undefined,
  db2: AsyncIterator<string[]> | undefined,
  compare: (a: string, b: string) => number,
  events: MergeEvents,
): Promise<{ db1Rows: number; db2Rows: number }> {
  const one = new Cursor(db1);
  const two = new Cursor(db2);
  for (;;) {
    // Within a batch no promise is awaited: most rows are equal and go by in this loop.
    let a = one.peek();
    let b = two.peek();
    while (a !== undefined && a === b) {
      events.equal(a);
      one.advance();
      two.advance();
      a = one.peek();
      b = two.peek();
    }
    if (a === undefined) a = await one.current();
    if (b === undefined) b = await two.current();
    if (a === undefined && b === undefined) break;
    if (a === b) continue;
    const order = a === undefined ? 1 : b === undefined ? -1 : compare(a, b);
    if (order <= 0 && a !== undefined) {
      events.db1Only(a, order === 0);
      one.advance();
    }
    if (order >= 0 && b !== undefined) {
      events.db2Only(b, order === 0);
      two.advance();
    }
  }
  return { db1Rows: one.count, db2Rows: two.count };
}

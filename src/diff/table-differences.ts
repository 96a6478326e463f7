/**
 * One table's differing rows as the data merge reports them: the report's share with
 * counts beyond it, and every row in the rows file when one is asked for.
 */
import fs from 'node:fs';
import { unwritableFile } from '../base/output-files.js';
import { decodeLine, type Row } from './copy-text.js';
import { RowHunks } from './row-hunks.js';
import type { DataStatus } from './compare-data.js';

/** Buffered writes to the rows file (one write call per megabyte, not per row). */
export class RowsFileWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private size = 0;

  constructor(file: string) {
    try {
      this.fd = fs.openSync(file, 'w', 0o644);
    } catch (error) {
      throw unwritableFile('rows file', file, error);
    }
  }

  write(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.chunks.length > 0) fs.writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** The `---`/`+++` lines of a table's data diff (an absent side is named so). */
function diffHeader(table: string, status: DataStatus): string {
  const oldName = status === 'only-in-db2' ? 'DB1: (absent)' : `DB1: ${table}`;
  const newName = status === 'only-in-db1' ? 'DB2: (absent)' : `DB2: ${table}`;
  return `--- ${oldName}\n+++ ${newName}\n`;
}

/** One table's differing rows as the merge reports them: the report's share, counts, and the rows file. */
export class TableDifferences {
  readonly onlyInDb1: Row[] = [];
  readonly onlyInDb2: Row[] = [];
  countDb1 = 0;
  countDb2 = 0;
  private readonly hunks: string[] = [];
  private readonly shown: RowHunks;
  private readonly all: RowHunks | undefined;
  private fileHeaderWritten = false;

  constructor(
    private readonly table: string,
    private readonly status: DataStatus,
    private readonly columns: readonly string[],
    private readonly limit: number,
    file: RowsFileWriter | undefined,
  ) {
    this.shown = new RowHunks({ limit, onHunk: (text) => this.hunks.push(text) });
    this.all = file && new RowHunks({
      onHunk: (text) => {
        if (!this.fileHeaderWritten) file.write(diffHeader(this.table, this.status));
        this.fileHeaderWritten = true;
        file.write(text);
      },
    });
    // The first line of each side is the column names: a side that is absent lacks it too.
    const header = columns.join('\t');
    if (status === 'only-in-db1') this.each((hunks) => hunks.remove(header, false));
    else if (status === 'only-in-db2') this.each((hunks) => hunks.add(header, false));
    else this.each((hunks) => hunks.equal(header));
  }

  private each(action: (hunks: RowHunks) => void): void {
    action(this.shown);
    if (this.all) action(this.all);
  }

  private row(line: string): Row {
    return this.columns.length === 0 ? [] : decodeLine(line);
  }

  equal(line: string): void {
    this.each((hunks) => hunks.equal(line));
  }

  db1Only(line: string): void {
    this.countDb1 += 1;
    if (this.onlyInDb1.length < this.limit) this.onlyInDb1.push(this.row(line));
    this.each((hunks) => hunks.remove(line));
  }

  db2Only(line: string): void {
    this.countDb2 += 1;
    if (this.onlyInDb2.length < this.limit) this.onlyInDb2.push(this.row(line));
    this.each((hunks) => hunks.add(line));
  }

  /** The report's diff ('' when no row differs). */
  finish(): { diff: string; notShown: number } {
    this.each((hunks) => hunks.finish());
    return { diff: this.hunks.length > 0 ? diffHeader(this.table, this.status) + this.hunks.join('') : '', notShown: this.shown.notShown };
  }
}

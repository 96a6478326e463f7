/**
 * A unified diff built as rows stream by, without holding either side: the rows the
 * merge found equal, removed (DB1 only) or added (DB2 only) go in one at a time, and
 * hunks with three lines of context come out. The report's copy stops after a number of
 * changed rows (the rest are counted); the rows file's copy takes them all. Pure.
 */

const CONTEXT_LINES = 3;

interface Hunk {
  oldStart: number;
  newStart: number;
  oldCount: number;
  newCount: number;
  lines: string[];
  /** Equal lines since the last change. */
  trailing: number;
}

export interface RowHunksOptions {
  /** Changed rows shown before the diff stops (the rest are only counted); default: all. */
  limit?: number;
  /** Receives each finished hunk (with its `@@` line), newline-terminated lines. */
  onHunk: (text: string) => void;
}

export class RowHunks {
  private oldLine = 0;
  private newLine = 0;
  private before: string[] = [];
  private hunk: Hunk | undefined;
  private removed: string[] = [];
  private added: string[] = [];
  private shown = 0;
  /** Changed rows the limit left out. */
  notShown = 0;

  constructor(private readonly options: RowHunksOptions) {}

  private get full(): boolean {
    return this.options.limit !== undefined && this.shown >= this.options.limit;
  }

  /** A row present, the same, on both sides. */
  equal(line: string): void {
    if (this.full && !this.hunk) return;
    this.flushRun();
    this.oldLine += 1;
    this.newLine += 1;
    const hunk = this.hunk;
    if (!hunk) {
      this.before.push(line);
      if (this.before.length > CONTEXT_LINES) this.before.shift();
      return;
    }
    hunk.lines.push(` ${line}`);
    hunk.oldCount += 1;
    hunk.newCount += 1;
    hunk.trailing += 1;
    // Trailing context complete and the limit reached: nothing more joins this hunk.
    if (this.full && hunk.trailing >= CONTEXT_LINES) this.closeHunk();
    // More than twice the context since the last change: the next change starts a new hunk.
    else if (hunk.trailing > 2 * CONTEXT_LINES) this.closeHunk();
  }

  /** A row of DB1 only; `counted` false for a line that is no row (the column names of a table one side lacks). */
  remove(line: string, counted = true): void {
    if (!this.change(counted)) return;
    this.removed.push(`-${line}`);
    this.oldLine += 1;
    if (this.hunk) this.hunk.oldCount += 1;
  }

  /** A row of DB2 only. */
  add(line: string, counted = true): void {
    if (!this.change(counted)) return;
    this.added.push(`+${line}`);
    this.newLine += 1;
    if (this.hunk) this.hunk.newCount += 1;
  }

  /** Ends the diff: the open hunk comes out. */
  finish(): void {
    this.flushRun();
    if (this.hunk) this.closeHunk();
  }

  /** Counts a changed row; false when the limit leaves it out. */
  private change(counted: boolean): boolean {
    if (this.full) {
      this.notShown += 1;
      if (this.hunk) {
        this.flushRun();
        this.closeHunk();
      }
      return false;
    }
    if (counted) this.shown += 1;
    this.hunk ??= {
      oldStart: this.oldLine - this.before.length + 1,
      newStart: this.newLine - this.before.length + 1,
      oldCount: this.before.length,
      newCount: this.before.length,
      lines: this.before.map((line) => ` ${line}`),
      trailing: 0,
    };
    this.before = [];
    this.hunk.trailing = 0;
    return true;
  }

  /** A run of changes is shown as its removed rows, then its added rows. */
  private flushRun(): void {
    if (this.removed.length === 0 && this.added.length === 0) return;
    this.hunk?.lines.push(...this.removed, ...this.added);
    this.removed = [];
    this.added = [];
  }

  private closeHunk(): void {
    const hunk = this.hunk;
    if (!hunk) return;
    this.hunk = undefined;
    const extra = Math.max(0, hunk.trailing - CONTEXT_LINES);
    const tail = hunk.lines.splice(hunk.lines.length - extra, extra);
    this.before = tail.slice(-CONTEXT_LINES).map((line) => line.slice(1));
    const oldCount = hunk.oldCount - extra;
    const newCount = hunk.newCount - extra;
    // As diff(1) and jsdiff write it: an empty side names the line before it.
    const oldStart = oldCount === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = newCount === 0 ? hunk.newStart - 1 : hunk.newStart;
    this.options.onHunk(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n${hunk.lines.join('\n')}\n`);
  }
}

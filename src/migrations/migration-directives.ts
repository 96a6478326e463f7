/**
 * What a migration file says about how it runs, on its first line (as goose and dbmate
 * read theirs):
 *
 *   -- db-tool: no-transaction
 *
 * runs the file outside a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE
 * before PostgreSQL 12, VACUUM): each statement commits on its own, and the migration is
 * recorded only after its last statement succeeded.
 */
import fs from 'node:fs';

const NO_TRANSACTION = /^(?:\uFEFF)?[ \t]*--[ \t]*db-tool:[ \t]*no-transaction[ \t]*\r?$/i;

/** The first line of a file's text (a BOM kept: the pattern allows it). */
function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

/** Whether the migration text asks to run outside a transaction. */
export function runsOutsideTransaction(sql: Buffer | string): boolean {
  const head = typeof sql === 'string' ? sql.slice(0, 200) : sql.subarray(0, 200).toString('utf8');
  return NO_TRANSACTION.test(firstLine(head));
}

/** The same for a file on disk; a file that cannot be read runs in a transaction (psql reports it). */
export function fileRunsOutsideTransaction(file: string): boolean {
  try {
    // Only a regular file: opening a FIFO would wait for a writer.
    if (!fs.statSync(file).isFile()) return false;
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(200);
      const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
      return runsOutsideTransaction(buffer.subarray(0, read));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

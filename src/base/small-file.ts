/**
 * Reading a small text file that a user names (a dotenv file): only a regular file, and
 * only up to a size limit. `/dev/zero` would grow our memory without end, a FIFO would
 * block the open until some writer comes, a terminal would wait for typing.
 */
import fs from 'node:fs';
import { errnoCause } from './fs-faults.js';

export type SmallFileRead = { ok: true; text: string } | { ok: false; reason: string };

/** The file's text, or why it cannot be read (not a regular file, larger than `maxBytes`, an errno cause). */
export function readSmallTextFile(file: string, maxBytes: number): SmallFileRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (error) {
    return { ok: false, reason: errnoCause(error) };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) return { ok: false, reason: 'a folder, not a file' };
    if (!stat.isFile()) return { ok: false, reason: 'not a regular file' };
    if (stat.size > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes` };
    // Read at most one byte past the limit: a file that grew meanwhile is still refused.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes` };
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { ok: false, reason: errnoCause(error) };
  } finally {
    fs.closeSync(fd);
  }
}

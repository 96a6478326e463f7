/** Command lines as words for a POSIX shell, and as lines for a log. */
import { redact } from './log.js';

/** A command line for logs: quoted where needed, secrets redacted. */
export function describeCommand(program: string, args: readonly string[]): string {
  return redact([program, ...args].map(shellQuote).join(' '));
}

/** Quotes a word for a POSIX shell (also used for remote ssh commands). */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

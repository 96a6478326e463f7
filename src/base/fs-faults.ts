/**
 * Faults of the file system (a full disk, a read-only mount, a forbidden folder) told in
 * a few words. They reach us two ways: as errno errors of our own fs calls, and as the
 * stderr of external programs (`cp`, `tar`, `pg_*`), which on a full disk repeat the
 * same line for every file. Either way the user gets one short cause.
 */
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { shown } from './text.js';

/** errno codes that are faults of the machine, not of the program, with their wording. */
const ERRNO_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
};

/** The same faults as programs print them (strerror texts), most telling first. */
const TEXT_CAUSES: Array<[RegExp, string]> = [
  [/No space left on device/i, ERRNO_CAUSES.ENOSPC!],
  [/Disk quota exceeded/i, ERRNO_CAUSES.EDQUOT!],
  [/Read-only file system/i, ERRNO_CAUSES.EROFS!],
  [/Input\/output error/i, ERRNO_CAUSES.EIO!],
  [/Too many open files/i, ERRNO_CAUSES.EMFILE!],
  [/Permission denied/i, ERRNO_CAUSES.EACCES!],
  [/Operation not permitted/i, ERRNO_CAUSES.EPERM!],
];

/** The machine fault that a program's output reports, if any. */
export function faultInText(text: string): string | undefined {
  return TEXT_CAUSES.find(([pattern]) => pattern.test(text))?.[1];
}

/** True for errno errors of fs calls that mean the machine, not the tool, is at fault. */
export function isFsFault(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in ERRNO_CAUSES && error instanceof Error;
}

/** A few words for an errno error: its cause, or its code. */
export function errnoCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_CAUSES[code]) return ERRNO_CAUSES[code];
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'ENOTDIR') return 'not a folder';
  return code ?? (error as Error).message;
}

/**
 * One line for an fs fault: the cause and the folder it happened in. `path` of the
 * error is the file being written; the folder is what the user can act on.
 */
export function fsFaultLine(error: NodeJS.ErrnoException, what?: string): string {
  const target = error.path ? path.dirname(error.path) : undefined;
  const where = target ? ` in ${target}` : '';
  return `${what ? `${what}: ` : ''}${errnoCause(error)}${where}`;
}

/** Runs `work`; an fs fault it throws becomes an EnvironmentError with one short line. */
export function explainFsFaults<T>(what: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (isFsFault(error)) throw new EnvironmentError(fsFaultLine(error, what));
    throw error;
  }
}

/** errno codes of a path that cannot be used as given: the user's path, not the machine, is at fault. */
const PATH_CAUSES: Record<string, string> = {
  ELOOP: 'too many levels of symbolic links (a symlink loop)',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the path is too long',
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENXIO: 'no such device or address',
};

/** True for an errno error of an fs call on a path that cannot be used (ELOOP, ENOTDIR, ENAMETOOLONG…). */
export function isPathError(error: unknown): error is NodeJS.ErrnoException & { code: string; path: string } {
  const { code, path: file } = (error as NodeJS.ErrnoException | undefined) ?? {};
  return error instanceof Error && typeof code === 'string' && code in PATH_CAUSES && typeof file === 'string';
}

/** One line for a path that cannot be used: the path (shown safely) and why. */
export function pathErrorLine(error: NodeJS.ErrnoException & { code: string; path: string }, what?: string): string {
  return `${what ? `${what}: ` : ''}cannot use ${shown(error.path)}: ${PATH_CAUSES[error.code] ?? error.code}`;
}

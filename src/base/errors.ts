/**
 * The errors the core throws, one class per kind of failure. They say what went wrong,
 * not how the process ends: only `src/cli/exit-codes.ts` turns a kind into an exit code
 * (SPEC §10).
 */

export type ErrorKind =
  | 'badInput'
  | 'sqlFailed'
  | 'unreachable'
  | 'environment'
  | 'programFailed'
  | 'ambiguous'
  | 'serverStart'
  | 'buildFailed'
  | 'missingInput'
  | 'migrationFailed'
  | 'missingTable'
  | 'internal'
  | 'missingProgram'
  | 'interrupted';

export abstract class DbToolError extends Error {
  abstract readonly kind: ErrorKind;
  /** Optional extra lines shown after the message (a log tail, a list of entries…). */
  readonly details: string | undefined;

  constructor(message: string, details?: string) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/**
 * Bad input or usage: a malformed value or name, a file or migration named that does not
 * exist, an impossible request (`up 5` with 2 pending), a command given nothing to do.
 */
export class BadInputError extends DbToolError {
  readonly kind = 'badInput';
}

/** The server refused SQL: a user's script, a test file, or a query of the tool. */
export class SqlFailedError extends DbToolError {
  readonly kind = 'sqlFailed';
}

/** A server that cannot be reached: a failed connection, or a cluster that is not running. */
export class UnreachableError extends DbToolError {
  readonly kind = 'unreachable';
}

/**
 * The machine does not allow what was asked: a file or folder that cannot be read or
 * written (also one the user named, like `-o FILE`), a full disk, an unusable OS user,
 * a database other sessions will not let go.
 */
export class EnvironmentError extends DbToolError {
  readonly kind = 'environment';
}

/** An external program ran and failed (pg_dump, pg_basebackup, ssh, createdb, the editor). */
export class ProgramFailedError extends DbToolError {
  readonly kind = 'programFailed';
}

/**
 * Ambiguous arguments or conflicting state: refusing to guess (two commands at once, a
 * migration history that does not match the folder, a folder holding strangers).
 */
export class AmbiguousError extends DbToolError {
  readonly kind = 'ambiguous';
}

/** The server did not start. */
export class ServerStartError extends DbToolError {
  readonly kind = 'serverStart';
}

/**
 * Something a comparison needs could not be built: `database diff`'s sources failed to
 * hydrate, or the restored copy of the backup did not come up. Kept apart from a plain
 * failure so CI tells breakage from drift.
 */
export class BuildFailedError extends DbToolError {
  readonly kind = 'buildFailed';
}

/** A required variable, argument or backup is missing. */
export class MissingInputError extends DbToolError {
  readonly kind = 'missingInput';
}

/** A migration failed and was rolled back. */
export class MigrationFailedError extends DbToolError {
  readonly kind = 'migrationFailed';
}

/** A named table does not exist. */
export class MissingTableError extends DbToolError {
  readonly kind = 'missingTable';
}

/** A program bug or unexpected system state (a bundle version conflict). */
export class InternalError extends DbToolError {
  readonly kind = 'internal';
}

/** A required external program is missing (or too old for the server). */
export class MissingProgramError extends DbToolError {
  readonly kind = 'missingProgram';
}

/** A run interrupted by a signal; cleanup has happened. */
export class InterruptedError extends DbToolError {
  readonly kind = 'interrupted';
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

export function isDbToolError(error: unknown): error is DbToolError {
  return error instanceof DbToolError;
}

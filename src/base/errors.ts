/**
 * Typed errors carrying the exit codes of SPEC §10. The core throws these; only
 * `src/cli` turns them into process exit codes.
 */

export const ExitCode = {
  ok: 0,
  generic: 1,
  ambiguous: 2,
  missingArgument: 3,
  migrationFailed: 4,
  missingTable: 5,
  unknownCommand: 9,
  bug: 13,
  missingProgram: 127,
} as const;


export class DbToolError extends Error {
  readonly exitCode: number;
  /** Optional extra lines shown after the message (a log tail, a list of entries…). */
  readonly details: string | undefined;

  constructor(message: string, exitCode: number, details?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** Generic failure: bad input, SQL error, a missing file (exit 1). */
export class UserError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.generic, details);
  }
}

/** Ambiguous arguments or state: refusing to guess (exit 2). */
export class AmbiguousError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.ambiguous, details);
  }
}

/** The server did not start (exit 2). */
export class ServerStartError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.ambiguous, details);
  }
}

/**
 * Something a comparison needs could not be built (exit 2): `database diff`'s sources
 * failed to hydrate, or the restored copy of the backup did not come up. Kept apart
 * from exit 1 so CI tells breakage from drift.
 */
export class BuildFailedError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.ambiguous, details);
  }
}

/** A required variable, argument or backup is missing (exit 3). */
export class MissingInputError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.missingArgument, details);
  }
}

/** A migration failed and was rolled back (exit 4). */
export class MigrationFailedError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.migrationFailed, details);
  }
}

/** A named table does not exist (exit 5). */
export class MissingTableError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.missingTable, details);
  }
}


/** Program bug or unexpected system state (exit 13). */
export class InternalError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.bug, details);
  }
}

/** A required external program is missing (exit 127). */
export class MissingProgramError extends DbToolError {
  constructor(message: string, details?: string) {
    super(message, ExitCode.missingProgram, details);
  }
}

/** A run interrupted by a signal; cleanup has happened (exit 130 / 143). */
export class InterruptedError extends DbToolError {
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, signal === 'SIGINT' ? 130 : 143);
  }
}

export function isDbToolError(error: unknown): error is DbToolError {
  return error instanceof DbToolError;
}

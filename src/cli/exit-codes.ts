/**
 * The exit codes of SPEC §10, and the one place that maps the core's errors to them.
 * The core throws errors by kind (src/base/errors.ts) and never knows how a process ends.
 */
import { InterruptedError, isDbToolError, type ErrorKind } from '../base/errors.js';

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
  sigint: 130,
  sigterm: 143,
} as const;

/** Every kind of error has its code; the compiler checks that none is left out. */
const EXIT_CODE_OF_KIND: Record<Exclude<ErrorKind, 'interrupted'>, number> = {
  badInput: ExitCode.generic,
  sqlFailed: ExitCode.generic,
  unreachable: ExitCode.generic,
  environment: ExitCode.generic,
  programFailed: ExitCode.generic,
  ambiguous: ExitCode.ambiguous,
  serverStart: ExitCode.ambiguous,
  buildFailed: ExitCode.ambiguous,
  missingInput: ExitCode.missingArgument,
  migrationFailed: ExitCode.migrationFailed,
  missingTable: ExitCode.missingTable,
  internal: ExitCode.bug,
  missingProgram: ExitCode.missingProgram,
};

/** The exit code a run ends with when `error` stops it; anything not ours is a bug (13). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return error.signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  if (isDbToolError(error) && error.kind !== 'interrupted') return EXIT_CODE_OF_KIND[error.kind];
  return ExitCode.bug;
}

/**
 * `database diff`'s exit code for an error: its 1 means "differences found" and nothing
 * else, so an error that would end another command with 1 (bad input, an output file
 * that cannot be written…) ends a diff with 2, "the comparison could not be made".
 */
export function diffExitCodeFor(error: unknown): number {
  const code = exitCodeFor(error);
  return code === ExitCode.generic ? ExitCode.ambiguous : code;
}

/** `migrator lint [MIGRATION…]` (SPEC §17): the choice of migrations and the lint are in src/migrations/lint/. */
import type { LintReport } from '../migrations/lint/lint.js';
import { lintSelectedMigrations, type LintSelection } from '../migrations/lint/lint-selection.js';

/** Lints the named migrations, or the pending ones. */
export function lintCommand(options: LintSelection, cwd: string): Promise<LintReport> {
  return lintSelectedMigrations(options, cwd);
}

/**
 * The migration `database diff` wrote (--write-migration / --sql) with its proof, and
 * whether that settles the run (src/cli/render/diff-migration.ts renders them).
 */
import { dataDiffers, type TableDataComparison } from './compare-data.js';
import type { MigrationOutcome } from './migration-writer/write-migration.js';

/** --write-migration / --sql as the run saw them, with what came of them. */
export interface MigrationResult extends MigrationOutcome {
  /** --write-migration NAME, when given. */
  name?: string;
}

/**
 * Whether a run leaves nothing to do: identical, or — when a migration was asked for —
 * a proved migration settles the schema drift (data drift stays a difference). Exit 0.
 */
export function diffSettled(result: { identical: boolean; data: TableDataComparison[]; migration?: MigrationResult }): boolean {
  return result.migration ? result.migration.proof.proved && !dataDiffers(result.data) : result.identical;
}

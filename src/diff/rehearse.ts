/**
 * `migrator rehearse` (SPEC §17): the pending migrations applied to a restored copy of
 * the latest backup — production's data — in a private cluster that is discarded
 * afterwards, with diff's rehearsal readings (rehearsal.ts): per migration its duration,
 * the relations it locked and in which mode, the tables it rewrote and their sizes.
 * The copy is built exactly as diff's DB1 (run-diff.ts), so the two report the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../base/errors.js';
import { throwIfInterrupted } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { assertBackupDir, defaultBackupDir } from '../backup/backup-files.js';
import { withRunDir, type RunDirSetup } from '../cluster/private-cluster.js';
import { DEFAULT_THRESHOLDS, rehearsalFlags, type RehearsalThresholds, type RehearsedMigration } from './rehearsal.js';
import { buildDb1, type BuildContext } from './diff-sides.js';

export const REHEARSE_RUN_PREFIX = 'migrator-rehearse';

export interface RehearseOptions {
  /** The backup to restore; default $LOCAL_DIR/focus/postgresql-backup. */
  backupPath?: string;
  migrationDir: string;
  /** --max-lock-ms and --max-rewrite-size. */
  thresholds?: Partial<RehearsalThresholds>;
}

export interface RehearseResult {
  backup: string;
  thresholds: RehearsalThresholds;
  migrations: RehearsedMigration[];
  /** True when a migration exceeded a limit (its `flags` say how). */
  exceeded: boolean;
}

/** The settings a rehearsal runs with: diff's DB1 build (the migration folder comes from the options) in a run dir. */
export type RehearseSettings = Omit<BuildContext['config'], 'migrationDir'> & RunDirSetup;

/** Restores the backup, runs `migrate up all` on it with the rehearsal's readings, and discards the copy. */
export async function rehearseMigrations(config: RehearseSettings, log: Logger, options: RehearseOptions): Promise<RehearseResult> {
  const backup = options.backupPath ? path.resolve(config.cwd, options.backupPath) : defaultBackupDir(config);
  assertBackupDir(backup);
  if (!fs.statSync(options.migrationDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new BadInputError(`migration folder not found: ${options.migrationDir}`);
  }
  const thresholds: RehearsalThresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const db1 = await withRunDir(config, REHEARSE_RUN_PREFIX, async (runDir) => {
    const runLogs = path.join(runDir, 'logs');
    fs.mkdirSync(runLogs, { mode: 0o755 });
    return buildDb1({ config: { ...config, migrationDir: options.migrationDir }, log, runDir, runLogs, checkpoint: throwIfInterrupted }, backup);
  });
  const migrations = db1.rehearsal.map((step) => ({ ...step, flags: rehearsalFlags(step, thresholds) }));
  return { backup, thresholds, migrations, exceeded: migrations.some((step) => step.flags.length > 0) };
}

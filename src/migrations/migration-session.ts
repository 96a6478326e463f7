/**
 * The connections of a migration run (see migration-runner.ts for what psql runs): apart
 * from the runner so that a caller can open them before the migrator loads.
 */
import type pg from 'pg';
import type { Config } from '../base/config.js';
import type { PgPrograms } from '../pg/pg-bin.js';
import { connect } from '../pg/db.js';
import { openPsqlSession, type PsqlSessionResult } from '../pg/psql-session.js';
import type { MigrationStep } from './migration-plan.js';

/**
 * psql lines run inside each step's transaction, right after its BEGIN and right before
 * its COMMIT (diff's rehearsal reads pg_locks and pg_class there).
 */
export interface StepHooks {
  afterBegin?: (index: number, step: MigrationStep) => string;
  beforeCommit?: (index: number, step: MigrationStep) => string;
}

export interface MigrationSessionOptions {
  url: string;
  /** psql variables from --set NAME=VALUE. */
  vars: Readonly<Record<string, string>>;
  /** Where the migrations' own output (SELECT results, \echo) goes; default: our stdout. */
  output?: 'inherit' | 'pipe' | number | ((text: string) => void);
  hooks?: StepHooks;
}

/**
 * The two connections of a run, opened first so that psql's start, loading pg and
 * connecting overlap the migrator's own work (reading and hashing the folder): psql runs
 * the migrations (user SQL, SPEC §2); a pg client asks the migrator's own questions (lock,
 * bundle, history; SQL of the tool) and holds the migrator lock until `close`, after
 * psql is done.
 */
export interface MigrationSession {
  readonly vars: Readonly<Record<string, string>>;
  readonly hooks?: StepHooks;
  /** The run's pg client; rejects with a one-line error when the database cannot be reached. */
  client(): Promise<pg.Client>;
  /** A script line that reports the run as done (`marks` then hold DONE_MARK). */
  readonly doneLine: string;
  /** The text that, printed by the script on a line of its own, reports `mark`. */
  markText(mark: string): string;
  /** Calls `listener` with each mark as the script prints it. */
  onMark(listener: (mark: string) => void): void;
  /** Hands psql its script (once); resolves with how psql ended. */
  finish(script: string): Promise<PsqlSessionResult>;
  /** Ends both: psql, unless it has its script (it exits having run nothing), then the pg client and its lock. */
  close(): Promise<void>;
}

/** The mark of a run whose last step committed. */
export const DONE_MARK = 'done';

/** The settings a migration session runs psql with: which psql, and the folder it starts in. */
export type MigrationSessionSettings = PgPrograms & Pick<Config, 'cwd'>;

export function openMigrationSession(config: MigrationSessionSettings, options: MigrationSessionOptions): MigrationSession {
  const psql = openPsqlSession(config, { url: options.url, vars: options.vars, output: options.output ?? 'inherit', cwd: config.cwd });
  const client = connect(options.url);
  client.catch(() => undefined); // seen by whoever asks for the client
  let finished: Promise<PsqlSessionResult> | undefined;
  const finish = (script: string): Promise<PsqlSessionResult> => (finished ??= psql.finish(script));
  return {
    vars: options.vars,
    hooks: options.hooks,
    client: () => client,
    doneLine: psql.markLine(DONE_MARK),
    markText: (mark) => psql.markText(mark),
    onMark: (listener) => psql.onMark(listener),
    finish,
    async close() {
      await finish('').catch(() => undefined);
      await (await client.catch(() => undefined))?.end().catch(() => undefined);
    },
  };
}

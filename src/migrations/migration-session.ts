/**
 * The one psql session of a migration run (see migration-runner.ts for what it runs):
 * apart from the runner so that a caller can start psql before the migrator loads.
 */
import type { Config } from '../base/config.js';
import type { SqlReader } from '../pg/db.js';
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
 * The one psql process of a run, started first: its start and connection overlap the
 * migrator's own work, and the migrator asks its questions (lock, bundle, history)
 * through it, so no other connection is needed before the migrations run. The lock it
 * takes is held until psql exits. `finish` without a script lets it exit having run
 * nothing.
 */
export interface MigrationSession extends SqlReader {
  readonly vars: Readonly<Record<string, string>>;
  readonly hooks?: StepHooks;
  /** psql's own version (VERSION_NUM; 0 when unknown), asked as the session opens. */
  readonly psqlVersion: Promise<number>;
  /** How many lines psql has been sent before the script. */
  readonly linesSent: number;
  /** A script line that reports the run as done (`marks` then hold DONE_MARK). */
  readonly doneLine: string;
  /** The text that, printed by the script on a line of its own, reports `mark`. */
  markText(mark: string): string;
  /** Calls `listener` with each mark as the script prints it. */
  onMark(listener: (mark: string) => void): void;
  /** Hands psql its script (once); resolves with how psql ended. */
  finish(script?: string): Promise<PsqlSessionResult>;
}

/** The mark of a run whose last step committed. */
export const DONE_MARK = 'done';

export function openMigrationSession(config: Config, options: MigrationSessionOptions): MigrationSession {
  const psql = openPsqlSession(config, { url: options.url, vars: options.vars, output: options.output ?? 'inherit', cwd: config.cwd });
  const psqlVersion = psql.variable('VERSION_NUM').then(
    (value) => (/^\d+$/.test(value) ? Number(value) : 0),
    () => 0,
  );
  return {
    vars: options.vars,
    hooks: options.hooks,
    psqlVersion,
    get linesSent() {
      return psql.linesSent;
    },
    query: (sql) => psql.query(sql),
    queryIf: (condition, sql) => psql.queryIf(condition, sql),
    doneLine: psql.markLine(DONE_MARK),
    markText: (mark) => psql.markText(mark),
    onMark: (listener) => psql.onMark(listener),
    finish: (script = '') => psql.finish(script),
  };
}

/**
 * The running project cluster as `database branch` needs it: an admin connection (to
 * `postgres`, never to the branch databases it renames), the exported database name,
 * and the working dir whose lock serialises switches.
 */
import type pg from 'pg';
import { requireWorkingDir } from '../base/config.js';
import { UnreachableError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { runningCluster, type ProjectCluster } from '../cluster/cluster-connection.js';
import { withWorkingDirLock } from '../cluster/working-dir-lock.js';
import { withClient } from '../pg/db.js';
import { gitContext, type GitContext, type GitSettings } from './git.js';

export interface BranchCluster {
  /** The exported URL (its database is PG_DATABASE: the current branch's). */
  url: string;
  /** PG_DATABASE. */
  database: string;
  workingDir: string;
  git: GitContext;
  admin: pg.Client;
}

/** The settings that find the running project cluster and the git work tree beside it. */
export type BranchClusterSettings = ProjectCluster & GitSettings;

/** Runs `work` with the project cluster, which must be running. */
export async function withBranchCluster<T>(config: BranchClusterSettings, work: (cluster: BranchCluster) => Promise<T>): Promise<T> {
  const workingDir = requireWorkingDir(config);
  const connection = runningCluster(config);
  if (!connection) throw new UnreachableError(`the project cluster is not running (${workingDir}): start it with \`postgres-init\` or \`database init --reuse\``);
  const git = gitContext(config);
  return withClient(connection.url, (admin) => work({ url: connection.url, database: connection.layout.database, workingDir, git, admin }), { database: 'postgres' });
}

/** Same, holding the working dir's lock: two switches (or a switch and a deploy) never interleave. */
export function withLockedBranchCluster<T>(config: BranchClusterSettings, log: Logger, command: string, work: (cluster: BranchCluster) => Promise<T>): Promise<T> {
  return withWorkingDirLock(requireWorkingDir(config), { command, log, create: false }, () => withBranchCluster(config, work));
}

export interface EndedSessions {
  count: number;
  /** application_name of each ended session, distinct ('' shown as "unnamed"). */
  apps: string[];
}

export const NO_SESSIONS: EndedSessions = { count: 0, apps: [] };

export function addSessions(a: EndedSessions, b: EndedSessions): EndedSessions {
  return { count: a.count + b.count, apps: [...new Set([...a.apps, ...b.apps])] };
}

/**
 * Ends the client sessions connected to `databases` (not background workers: pg_cron's
 * launcher is moved by cron-launcher.ts, which restarts it rather than stopping it) and
 * waits up to 5 s for each to be gone.
 */
export async function endSessions(admin: pg.ClientBase, databases: readonly string[]): Promise<EndedSessions> {
  const { rows } = await admin.query<{ app: string; ended: boolean }>(
    `SELECT application_name AS app, pg_terminate_backend(pid, 5000) AS ended
       FROM pg_stat_activity
      WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [databases],
  );
  return { count: rows.length, apps: [...new Set(rows.map((row) => row.app || 'unnamed'))] };
}

/** The server's data folder (to recognise its processes); undefined when we may not read it. */
export async function dataDirectoryOf(admin: pg.ClientBase): Promise<string | undefined> {
  try {
    return (await admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory;
  } catch {
    return undefined;
  }
}

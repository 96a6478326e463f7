/**
 * `database branch switch`: makes a branch's database the one PG_DATABASE names.
 *
 * The swap is one transaction: PG_DATABASE is renamed to the leaving branch's stored name,
 * the arriving branch's database is renamed to PG_DATABASE, and both labels (branch-store.ts)
 * are rewritten. `ALTER DATABASE … RENAME` is transactional, so a SIGKILL at any instant
 * leaves either the old names or the new ones: every database intact, PG_DATABASE one of
 * them. What happens outside that transaction is made safe to repeat instead: a first
 * visit's copy that was never labelled is dropped by the next switch to that branch (it
 * was never used),
 * and a first visit whose migrations did not all run is finished by the next switch to it.
 *
 * pg_cron's launcher stays connected to cron.database_name = PG_DATABASE, which blocks the
 * rename and the copy: cron-launcher.ts moves it off for that moment, as for test copies.
 */
import fs from 'node:fs';
import type pg from 'pg';
import type { Config } from '../base/config.js';
import { BadInputError, EnvironmentError } from '../base/errors.js';
import { formatDuration, type Logger } from '../base/log.js';
import { withDatabaseFreeOfCronLauncher } from '../cluster/cron-launcher.js';
import { quoteIdent, withClient } from '../pg/db.js';
import { runMigrations } from '../migrations/migrate.js';
import { readMigrations } from '../migrations/migration-files.js';
import type { MigrationSessionSettings } from '../migrations/migration-session.js';
import { readAppliedMigrations } from '../migrations/migration-state.js';
import { addSessions, dataDirectoryOf, endSessions, NO_SESSIONS, withLockedBranchCluster, type BranchCluster, type BranchClusterSettings, type EndedSessions } from './branch-cluster.js';
import { labelSql, readBranchDatabases, storedName, writeLabel, type BranchLabel } from './branch-store.js';
import { commitsSinceMergeBase, currentGitBranch, gitBranchExists, previousGitBranch } from './git.js';

/** Steps where DB_TOOL_BRANCH_PAUSE can hold a switch (fault tests). */
export const PAUSE_STEPS = ['after-copy', 'after-label', 'between-renames', 'before-commit', 'after-swap'] as const;

export interface FirstVisit {
  parent: string;
  /** Migrations run on the copy. */
  applied: string[];
  /** Migrations the parent had applied that this branch does not have on disk: kept, not reverted. */
  foreign: string[];
}

export interface SwitchResult {
  branch: string;
  /** The branch whose database PG_DATABASE named before; equal to `branch` when nothing moved. */
  previous: string;
  database: string;
  switched: boolean;
  firstVisit: FirstVisit | undefined;
  ended: EndedSessions;
  /** Unlabelled copies of interrupted first visits, dropped. */
  recovered: string[];
  /** Migrations of the checked-out folder not applied to the branch's database (after a first visit: none, unless one failed). */
  pending: string[];
}

export interface SwitchOptions {
  /** Default: the branch git has checked out. */
  name?: string;
}

function now(): string {
  return new Date().toISOString();
}

async function pauseAt(config: Pick<Config, 'branchPauseAt'>, log: Logger, step: (typeof PAUSE_STEPS)[number]): Promise<void> {
  if (config.branchPauseAt !== step) return;
  log.warn(`database branch switch: paused ${step} (DB_TOOL_BRANCH_PAUSE)`);
  await new Promise(() => setInterval(() => undefined, 1 << 30));
}

interface Family {
  current: BranchLabel | undefined;
  others: Map<string, { database: string; label: BranchLabel }>;
  unlabelled: string[];
}

async function readFamily(cluster: BranchCluster): Promise<Family> {
  const databases = await readBranchDatabases(cluster.admin, cluster.database);
  const current = databases.find((entry) => entry.database === cluster.database);
  if (!current) throw new BadInputError(`database ${cluster.database} does not exist in the project cluster (run \`database deploy\` or \`database init\`)`);
  const others = new Map<string, { database: string; label: BranchLabel }>();
  const unlabelled: string[] = [];
  for (const entry of databases) {
    if (entry.database === cluster.database) continue;
    if (entry.label) others.set(entry.label.branch, { database: entry.database, label: entry.label });
    else unlabelled.push(entry.database);
  }
  return { current: current.label, others, unlabelled };
}

/**
 * Drops `database` when it is there without a label: the copy of a first visit killed
 * before labelling it, never used by any branch. Only the name this switch is about to
 * make is touched; a database of the user's that happens to be called `testdb@x` is left
 * alone unless x is a branch being visited for the first time.
 */
async function dropUnlabelled(admin: pg.ClientBase, database: string, unlabelled: readonly string[]): Promise<string[]> {
  if (!unlabelled.includes(database)) return [];
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  return [database];
}

/**
 * A current database without a label (made before branches were used, or by a fresh
 * deploy) belongs to the branch being left: the one git had before the checkout that
 * called us, else the one checked out, else the one asked for.
 */
async function adoptCurrent(cluster: BranchCluster, target: string): Promise<BranchLabel> {
  const checkedOut = await currentGitBranch(cluster.git);
  const owner = checkedOut !== undefined && checkedOut !== target ? checkedOut : checkedOut === target ? ((await previousGitBranch(cluster.git)) ?? target) : target;
  const label: BranchLabel = { branch: owner, parent: undefined, created: now(), lastUsed: now(), migrated: true };
  await writeLabel(cluster.admin, cluster.database, label);
  return label;
}

/**
 * The branch `target` came from: of the branches that have a database, the one whose
 * merge-base with it is nearest (fewest of target's commits since). Ties and branches
 * git does not know go to the current one.
 */
async function chooseParent(cluster: BranchCluster, target: string, current: string, others: readonly string[]): Promise<string> {
  if (!(await gitBranchExists(cluster.git, target))) return current;
  const candidates = [current, ...others];
  const distances = await Promise.all(candidates.map((candidate) => commitsSinceMergeBase(cluster.git, target, candidate)));
  let best = current;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [index, distance] of distances.entries()) {
    // Strictly nearer only: on a tie the earlier candidate (the current branch first) stays.
    if (distance !== undefined && distance < bestDistance) {
      best = candidates[index] ?? current;
      bestDistance = distance;
    }
  }
  return best;
}

/** Runs `work` with pg_cron's launcher off `database`; one line when it cannot be moved. */
async function freeOfCron<T>(cluster: BranchCluster, database: string, work: () => Promise<T>): Promise<T> {
  const moved = await withDatabaseFreeOfCronLauncher(cluster.admin, database, work, { dataDirectory: await dataDirectoryOf(cluster.admin) });
  if (!moved.freed) throw new EnvironmentError(`cannot switch branches: ${moved.reason}`);
  return moved.value;
}

/** Copies `source` into `copy` (not yet labelled), ending the sessions in the way. */
async function copyDatabase(cluster: BranchCluster, source: string, copy: string): Promise<EndedSessions> {
  const version = Number((await cluster.admin.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
  const strategy = version >= 150000 ? ' STRATEGY FILE_COPY' : '';
  // Counted over every attempt: a retried copy finds the sessions the first one ended gone.
  let ended = NO_SESSIONS;
  await freeOfCron(cluster, source, async () => {
    ended = addSessions(ended, await endSessions(cluster.admin, [source]));
    await cluster.admin.query(`CREATE DATABASE ${quoteIdent(copy)} TEMPLATE ${quoteIdent(source)}${strategy}`);
  });
  return ended;
}

interface Swap {
  leaving: BranchLabel;
  arriving: { database: string; label: BranchLabel };
}

/** The renames and labels of a switch, in one transaction. */
async function swap(config: Pick<Config, 'branchPauseAt'>, log: Logger, cluster: BranchCluster, plan: Swap): Promise<EndedSessions> {
  const { admin, database } = cluster;
  const leavingName = storedName(database, plan.leaving.branch);
  const stamp = now();
  // Counted over every attempt: a retried swap finds the sessions the first one ended gone.
  let ended = NO_SESSIONS;
  await freeOfCron(cluster, database, async () => {
    ended = addSessions(ended, await endSessions(admin, [database, plan.arriving.database]));
    await admin.query('BEGIN');
    try {
      await admin.query(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(leavingName)}`);
      await pauseAt(config, log, 'between-renames');
      await admin.query(`ALTER DATABASE ${quoteIdent(plan.arriving.database)} RENAME TO ${quoteIdent(database)}`);
      await admin.query(labelSql(leavingName, { ...plan.leaving, lastUsed: stamp }));
      await admin.query(labelSql(database, { ...plan.arriving.label, lastUsed: stamp }));
      await pauseAt(config, log, 'before-commit');
      await admin.query('COMMIT');
    } catch (error) {
      await admin.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
  return ended;
}

/** Applies the branch's pending migrations to its new database; names those it lacks on disk. */
async function finishFirstVisit(config: MigrationSessionSettings & Pick<Config, 'migrationDir'>, log: Logger, cluster: BranchCluster, label: BranchLabel): Promise<Pick<FirstVisit, 'applied' | 'foreign'>> {
  let applied: string[] = [];
  let foreign: string[] = [];
  const dir = config.migrationDir;
  if (dir && fs.existsSync(dir)) {
    const disk = new Set(readMigrations(dir).map((migration) => migration.name));
    const history = await withClient(cluster.url, (client) => readAppliedMigrations(client));
    foreign = history.filter((migration) => !disk.has(migration.name)).map((migration) => migration.name);
    const done = new Set(history.map((migration) => migration.name));
    // Nothing pending: the migrator (a psql session) is not started at all.
    if ([...disk].some((name) => !done.has(name))) {
      const result = await runMigrations(config, log, {
        url: cluster.url,
        migrationDir: dir,
        request: { kind: 'up', count: 'all' },
        vars: {},
        // The parent's own migrations are kept (it is a copy of the parent), never reverted.
        force: foreign.length > 0,
        allowOutOfOrder: true,
        dryRun: false,
        output: 'pipe',
      });
      applied = result.completed.map((step) => step.name);
    }
  }
  await writeLabel(cluster.admin, cluster.database, { ...label, migrated: true, lastUsed: now() });
  return { applied, foreign };
}

/** The checked-out migrations the current database has not applied. */
async function pendingHere(config: Pick<Config, 'migrationDir'>, cluster: BranchCluster): Promise<string[]> {
  const dir = config.migrationDir;
  if (!dir || !fs.existsSync(dir)) return [];
  const disk = readMigrations(dir).map((migration) => migration.name);
  const applied = new Set((await withClient(cluster.url, (client) => readAppliedMigrations(client))).map((migration) => migration.name));
  return disk.filter((name) => !applied.has(name));
}

/** The settings a switch runs with: the cluster and git, the migrations a first visit applies, the fault-test pause. */
export type SwitchSettings = BranchClusterSettings & MigrationSessionSettings & Pick<Config, 'migrationDir' | 'branchPauseAt'>;

export async function switchBranch(config: SwitchSettings, log: Logger, options: SwitchOptions): Promise<SwitchResult> {
  return withLockedBranchCluster(config, log, 'database branch switch', async (cluster) => {
    const target = options.name ?? (await currentGitBranch(cluster.git));
    if (!target) throw new BadInputError('no branch to switch to: git has no branch checked out here (detached HEAD?); name one: `database branch switch NAME`');
    let family = await readFamily(cluster);
    const recovered = family.others.has(target) ? [] : await dropUnlabelled(cluster.admin, storedName(cluster.database, target), family.unlabelled);
    const current = family.current ?? (await adoptCurrent(cluster, target));
    const result: SwitchResult = { branch: target, previous: current.branch, database: cluster.database, switched: false, firstVisit: undefined, ended: NO_SESSIONS, recovered, pending: [] };

    if (current.branch === target) {
      if (!current.migrated) result.firstVisit = { parent: current.parent ?? target, ...(await finishFirstVisit(config, log, cluster, current)) };
      else await writeLabel(cluster.admin, cluster.database, { ...current, lastUsed: now() });
      result.pending = await pendingHere(config, cluster);
      return result;
    }

    let arriving = family.others.get(target);
    let parent: string | undefined;
    if (!arriving) {
      parent = await chooseParent(cluster, target, current.branch, [...family.others.keys()]);
      const source = parent === current.branch ? cluster.database : family.others.get(parent)?.database ?? cluster.database;
      const copy = storedName(cluster.database, target);
      const copying = performance.now();
      result.ended = await copyDatabase(cluster, source, copy);
      log.debug(`copied ${source} to ${copy} in ${formatDuration(performance.now() - copying)}`);
      await pauseAt(config, log, 'after-copy');
      const label: BranchLabel = { branch: target, parent, created: now(), lastUsed: now(), migrated: false };
      await writeLabel(cluster.admin, copy, label);
      await pauseAt(config, log, 'after-label');
      arriving = { database: copy, label };
    }

    const swapping = performance.now();
    result.ended = addSessions(result.ended, await swap(config, log, cluster, { leaving: current, arriving }));
    log.debug(`swapped ${arriving.database} in as ${cluster.database} in ${formatDuration(performance.now() - swapping)}`);
    result.switched = true;
    await pauseAt(config, log, 'after-swap');
    if (!arriving.label.migrated) {
      family = await readFamily(cluster);
      const label = family.current ?? arriving.label;
      const migrating = performance.now();
      result.firstVisit = { parent: parent ?? label.parent ?? current.branch, ...(await finishFirstVisit(config, log, cluster, label)) };
      log.debug(`first visit's migrations in ${formatDuration(performance.now() - migrating)}`);
    }
    result.pending = await pendingHere(config, cluster);
    return result;
  });
}

/**
 * `database branch`, `branch list`, `branch rm`, `branch gc`: what the branches' databases
 * are and removing those no longer needed. The current branch's database is never removed.
 */
import fs from 'node:fs';
import type { Config } from '../base/config.js';
import { BadInputError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { quoteIdent, withClient } from '../pg/db.js';
import { MIGRATION_NAME, readMigrations } from '../migrations/migration-files.js';
import { readAppliedMigrations } from '../migrations/migration-state.js';
import { withBranchCluster, withLockedBranchCluster, type BranchCluster, type BranchClusterSettings } from './branch-cluster.js';
import { readBranchDatabases } from './branch-store.js';
import { currentGitBranch, entriesInBranch, gitBranches } from './git.js';

export interface BranchInfo {
  name: string;
  database: string;
  current: boolean;
  bytes: number;
  lastUsed: string;
  parent: string | null;
  /** Migrations of the branch (as git has it; the checked-out folder for the current one) not applied to its database; null when unknown. */
  pending: string[] | null;
  /** The branch still exists in git; null outside a repository. */
  inGit: boolean | null;
}

export interface CurrentBranch {
  /** The branch whose database PG_DATABASE is; null before the first switch labelled it. */
  branch: string | null;
  database: string;
  gitBranch: string | null;
  /** False when git has another branch checked out than the database's (the hook is not installed?). */
  matchesGit: boolean | null;
}

export async function currentBranch(config: BranchClusterSettings): Promise<CurrentBranch> {
  return withBranchCluster(config, async (cluster) => {
    const databases = await readBranchDatabases(cluster.admin, cluster.database);
    const branch = databases.find((entry) => entry.database === cluster.database)?.label?.branch ?? null;
    const gitBranch = (await currentGitBranch(cluster.git)) ?? null;
    return { branch, database: cluster.database, gitBranch, matchesGit: branch && gitBranch ? branch === gitBranch : null };
  });
}

function migrationName(entry: string): string {
  return entry.replace(/(\.(up|down))?\.sql$/, '');
}

async function pendingOf(config: Pick<Config, 'migrationDir'>, cluster: BranchCluster, branch: string, database: string, current: boolean): Promise<string[] | null> {
  const dir = config.migrationDir;
  if (!dir) return null;
  let onBranch: string[] | undefined;
  if (current) onBranch = fs.existsSync(dir) ? readMigrations(dir).map((migration) => migration.name) : [];
  else onBranch = (await entriesInBranch(cluster.git, branch, dir))?.filter((entry) => MIGRATION_NAME.test(entry)).map(migrationName);
  if (!onBranch) return null;
  const applied = new Set((await withClient(cluster.url, (client) => readAppliedMigrations(client), { database })).map((migration) => migration.name));
  return [...new Set(onBranch)].filter((name) => !applied.has(name)).sort();
}

async function listIn(config: Pick<Config, 'migrationDir'>, cluster: BranchCluster): Promise<BranchInfo[]> {
  const git = await gitBranches(cluster.git);
  const databases = await readBranchDatabases(cluster.admin, cluster.database);
  const infos: BranchInfo[] = [];
  for (const entry of databases) {
    if (!entry.label) continue;
    const current = entry.database === cluster.database;
    infos.push({
      name: entry.label.branch,
      database: entry.database,
      current,
      bytes: entry.bytes,
      lastUsed: entry.label.lastUsed,
      parent: entry.label.parent ?? null,
      pending: await pendingOf(config, cluster, entry.label.branch, entry.database, current).catch(() => null),
      inGit: git ? git.has(entry.label.branch) : null,
    });
  }
  return infos.sort((a, b) => (a.current !== b.current ? (a.current ? -1 : 1) : a.name.localeCompare(b.name)));
}

/** The settings that list branches: the running cluster, git, and MIGRATION_DIR (pending migrations). */
export type BranchListSettings = BranchClusterSettings & Pick<Config, 'migrationDir'>;

export function listBranches(config: BranchListSettings): Promise<BranchInfo[]> {
  return withBranchCluster(config, (cluster) => listIn(config, cluster));
}

export interface RemovedBranch {
  name: string;
  database: string;
  bytes: number;
  why: string;
}

async function drop(cluster: BranchCluster, database: string): Promise<void> {
  await cluster.admin.query(`DROP DATABASE ${quoteIdent(database)} WITH (FORCE)`);
}

export async function removeBranch(config: BranchListSettings, log: Logger, name: string): Promise<RemovedBranch> {
  return withLockedBranchCluster(config, log, 'database branch rm', async (cluster) => {
    const branch = (await listIn(config, cluster)).find((info) => info.name === name);
    if (!branch) throw new BadInputError(`no database for branch ${name} (see \`database branch list\`)`);
    if (branch.current) throw new BadInputError(`branch ${name} is the current one (its database is ${cluster.database}): switch to another branch first`);
    await drop(cluster, branch.database);
    return { name, database: branch.database, bytes: branch.bytes, why: 'asked' };
  });
}

export interface GcOptions {
  /** Also remove branches unused for this long. */
  olderThanMs?: number;
  dryRun?: boolean;
}

/** `7d`, `12h`, `30m`, `2w`, `90s` → milliseconds. */
export function parseAge(text: string): number {
  const match = /^([0-9]+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!match) throw new BadInputError(`--older-than takes a number and a unit (s, m, h, d, w), like 7d; got '${text}'`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

function describeAge(ms: number): string {
  if (ms >= 86_400_000) return `${Math.floor(ms / 86_400_000)} d`;
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)} h`;
  return `${Math.max(0, Math.floor(ms / 60_000))} min`;
}

export async function gcBranches(config: BranchListSettings, log: Logger, options: GcOptions): Promise<RemovedBranch[]> {
  return withLockedBranchCluster(config, log, 'database branch gc', async (cluster) => {
    const removed: RemovedBranch[] = [];
    for (const branch of await listIn(config, cluster)) {
      if (branch.current) continue;
      const unusedMs = Date.now() - Date.parse(branch.lastUsed);
      const why = branch.inGit === false ? 'gone from git' : options.olderThanMs !== undefined && unusedMs > options.olderThanMs ? `unused for ${describeAge(unusedMs)}` : undefined;
      if (!why) continue;
      if (!options.dryRun) await drop(cluster, branch.database);
      removed.push({ name: branch.name, database: branch.database, bytes: branch.bytes, why });
    }
    return removed;
  });
}

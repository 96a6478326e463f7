/**
 * What `database branch` asks git: the current branch, whether a branch exists, how far
 * a branch is from another's merge-base, the migrations a branch holds. Read-only.
 */
import path from 'node:path';
import type { Config, LocalDirSetting } from '../base/config.js';
import { runProgram } from '../base/process.js';

export interface GitContext {
  /** A folder inside the work tree. */
  cwd: string;
  env: Readonly<Record<string, string>>;
}

/** The settings that say where git runs: the project root (else the current folder), and its environment. */
export type GitSettings = LocalDirSetting & Pick<Config, 'env'>;

/** Where git runs for the project: its root, else the current folder. */
export function gitContext(config: GitSettings): GitContext {
  return { cwd: config.localDir ?? config.cwd, env: config.env };
}

async function git(ctx: GitContext, args: readonly string[]): Promise<string | undefined> {
  const result = await runProgram('git', args, { env: ctx.env, cwd: ctx.cwd, installHint: 'install git' });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The branch checked out, or undefined (detached HEAD, not a repository). */
export function currentGitBranch(ctx: GitContext): Promise<string | undefined> {
  return git(ctx, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
}

/** The branch checked out before the last checkout (`@{-1}`), if git remembers one. */
export async function previousGitBranch(ctx: GitContext): Promise<string | undefined> {
  const name = await git(ctx, ['rev-parse', '--abbrev-ref', '@{-1}']);
  return name && name !== '@{-1}' ? name : undefined;
}

export async function gitBranchExists(ctx: GitContext, name: string): Promise<boolean> {
  return (await git(ctx, ['rev-parse', '--verify', '--quiet', `refs/heads/${name}`])) !== undefined;
}

/** The local branches; undefined outside a repository. */
export async function gitBranches(ctx: GitContext): Promise<Set<string> | undefined> {
  const out = await git(ctx, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/']);
  return out === undefined ? undefined : new Set(out.split('\n').filter(Boolean));
}

/**
 * How many commits `branch` has that `other` does not (those since their merge-base);
 * undefined when either is unknown. One git call: `rev-list --count other..branch`.
 */
export async function commitsSinceMergeBase(ctx: GitContext, branch: string, other: string): Promise<number | undefined> {
  const count = await git(ctx, ['rev-list', '--count', `refs/heads/${other}..refs/heads/${branch}`]);
  return count === undefined ? undefined : Number(count);
}

/** The entries of `folder` (absolute, inside the work tree) in `branch`'s tree; undefined when git cannot tell. */
export async function entriesInBranch(ctx: GitContext, branch: string, folder: string): Promise<string[] | undefined> {
  const top = await git(ctx, ['rev-parse', '--show-toplevel']);
  if (!top) return undefined;
  const relative = path.relative(top, folder);
  if (relative.startsWith('..')) return undefined;
  const out = await git(ctx, ['ls-tree', '--name-only', `refs/heads/${branch}`, `${relative}/`]);
  return out === undefined ? undefined : out.split('\n').filter(Boolean).map((entry) => path.basename(entry));
}

/** The folder of the repository's hooks (core.hooksPath respected), absolute. */
export async function gitHooksDir(ctx: GitContext): Promise<string | undefined> {
  const dir = await git(ctx, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks']);
  return dir || undefined;
}

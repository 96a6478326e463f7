/**
 * `database branch install-hook`: a git `post-checkout` hook that switches the database
 * when a branch is checked out (`database branch switch --hook`). A hook already there is kept: moved aside to
 * `post-checkout.pre-db-tool` and run first by ours, with its exit status kept. Running
 * the install again changes nothing. The hooks folder is git's (core.hooksPath respected).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError, EnvironmentError } from '../base/errors.js';
import { makeDirs } from '../base/folders.js';
import { shellQuote } from '../base/shell-quote.js';
import type { Logger } from '../base/log.js';
import { runningCluster } from '../cluster/cluster-connection.js';
import { switchBranch, type SwitchResult, type SwitchSettings } from './branch-switch.js';
import { currentGitBranch, gitContext, gitHooksDir, type GitSettings } from './git.js';

const MARKER = '# db-tool: database branch hook';
export const CHAINED_SUFFIX = '.pre-db-tool';

export interface HookInstall {
  hook: string;
  outcome: 'installed' | 'already-installed';
  /** Where the hook that was there before now lives (ours runs it first). */
  chained: string | undefined;
}

/** The hook: `launcher` is the db-tool launcher to run `database` with (else PATH's `database`). */
export function hookScript(launcher: string): string {
  return `#!/bin/sh
${MARKER} (installed by \`database branch install-hook\`).
# A post-checkout hook that was here before runs first, as post-checkout${CHAINED_SUFFIX}.
status=0
if [ -x "$0${CHAINED_SUFFIX}" ]; then "$0${CHAINED_SUFFIX}" "$@" || status=$?; fi
# $3 is 1 for a checkout of a branch, 0 for a checkout of files: those change no branch.
if [ "$3" = 1 ]; then
  launcher=${shellQuote(launcher)}
  if [ -x "$launcher" ]; then set -- "$launcher" database; else set -- database; fi
  "$@" branch switch --hook || status=$?
fi
exit $status
`;
}

function readIfThere(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnvironmentError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

export async function installHook(config: GitSettings, launcher: string): Promise<HookInstall> {
  const git = gitContext(config);
  const hooksDir = await gitHooksDir(git);
  if (!hooksDir) throw new BadInputError(`not in a git repository: ${git.cwd}`);
  makeDirs(hooksDir);
  const hook = path.join(hooksDir, 'post-checkout');
  const chainedFile = `${hook}${CHAINED_SUFFIX}`;
  const existing = readIfThere(hook);
  if (existing?.includes(MARKER)) return { hook, outcome: 'already-installed', chained: fs.existsSync(chainedFile) ? chainedFile : undefined };
  let chained: string | undefined;
  if (existing !== undefined) {
    if (fs.existsSync(chainedFile)) throw new BadInputError(`cannot chain the existing ${hook}: ${chainedFile} exists already; merge them by hand`);
    fs.renameSync(hook, chainedFile);
    chained = chainedFile;
  }
  // Written aside and renamed: a hook is never seen half-written.
  const temporary = `${hook}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, hookScript(launcher), { mode: 0o755 });
  fs.renameSync(temporary, hook);
  return { hook, outcome: 'installed', chained };
}

/** A switch from the hook: done, or skipped with the reason. */
export type HookSwitch = { skipped: string } | SwitchResult;

/**
 * `switch --hook` (from the post-checkout hook): a checkout with no branch (a rebase's
 * detached HEAD) or with the cluster stopped switches nothing and says why, never fails
 * the checkout.
 */
export async function switchFromHook(config: SwitchSettings, log: Logger, name?: string): Promise<HookSwitch> {
  if (!runningCluster(config)) return { skipped: 'the project cluster is not running; `database branch switch` once it is' };
  if (!(await currentGitBranch(gitContext(config)))) return { skipped: 'no branch checked out (detached HEAD)' };
  return switchBranch(config, log, { name });
}

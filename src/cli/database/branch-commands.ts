/**
 * `database branch [switch|list|rm|gc|install-hook]`: one database per git branch.
 * Each action loads its command when it runs (see database-program.ts).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { plural } from '../../base/text.js';
import { json } from '../output.js';
import type { CliContext } from '../run.js';
import type { BranchInfo, HookSwitch, RemovedBranch } from '../../commands/branch.js';

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}

function ago(iso: string): string {
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '-';
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} d ago`;
}

export function formatSwitch(result: HookSwitch): string[] {
  if ('skipped' in result) return [`database branch: not switched: ${result.skipped}`];
  const lines: string[] = [];
  for (const database of result.recovered) lines.push(`dropped ${database}: an interrupted first visit's copy, never used`);
  if (result.ended.count > 0) lines.push(`ended ${plural(result.ended.count, 'session')} connected to ${result.database} (${result.ended.apps.join(', ')}): reconnect to get branch ${result.branch}'s data`);
  if (!result.switched) lines.push(`database ${result.database} is branch ${result.branch}'s already`);
  else lines.push(`database ${result.database} is now branch ${result.branch}'s${result.firstVisit ? ` (first visit: a copy of ${result.firstVisit.parent}'s)` : ''}; ${result.previous}'s is kept`);
  const visit = result.firstVisit;
  if (visit) {
    lines.push(visit.applied.length > 0 ? `applied ${plural(visit.applied.length, 'migration')}: ${visit.applied.join(', ')}` : 'no migrations to apply');
    if (visit.foreign.length > 0) lines.push(`kept from ${visit.parent}, not on this branch (came from elsewhere, not reverted): ${visit.foreign.join(', ')}`);
  }
  if (result.pending.length > 0) lines.push(`${plural(result.pending.length, 'migration')} pending on branch ${result.branch}: ${result.pending.join(', ')} (\`database migrator migrate up\`)`);
  return lines;
}

function formatList(branches: BranchInfo[]): string {
  if (branches.length === 0) return 'no branch databases yet: `database branch switch` makes the first\n';
  const rows = branches.map((b) => [
    `${b.current ? '*' : ' '} ${b.name}`,
    b.database,
    size(b.bytes),
    ago(b.lastUsed),
    b.pending === null ? '?' : b.pending.length === 0 ? '0' : `${b.pending.length}`,
    b.inGit === false ? 'gone from git' : '',
  ]);
  const header = ['  BRANCH', 'DATABASE', 'SIZE', 'LAST USED', 'PENDING', ''];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function formatRemoved(removed: RemovedBranch[], dryRun: boolean): string {
  if (removed.length === 0) return 'nothing to remove\n';
  return removed.map((r) => `${dryRun ? 'would remove' : 'removed'} ${r.name} (${r.database}, ${size(r.bytes)}): ${r.why}`).join('\n') + '\n';
}

/**
 * This installation's launcher, for the hook to run `database` with: every install has
 * it (npm packs no links, so an install from the registry has no bin/database).
 */
function launcherOfThisInstall(): string {
  return path.resolve(path.dirname(process.argv[1] ?? '.'), '..', '..', 'bin', 'db-tool-launcher');
}

/** `branch rm` and `branch gc`: branch databases dropped, one by name or those gone from git. */
function registerBranchRemoval(branch: Command, ctx: CliContext, asJson: (options: { json?: boolean }) => boolean): void {
  branch
    .command('rm')
    .description("drop a branch's database (never the current one)")
    .argument('<name>', 'branch')
    .option('--json', 'print one JSON document')
    .action(async (name: string, options: { json?: boolean }) => {
      const { removeBranch } = await import('../../commands/branch.js');
      const removed = await removeBranch(ctx.config, ctx.log, name);
      ctx.out(asJson(options) ? json(removed) : formatRemoved([removed], false));
    });

  branch
    .command('gc')
    .description('drop the databases of branches gone from git (and with --older-than, of branches unused that long); never the current one')
    .option('--older-than <age>', 'also branches unused for this long: 30m, 12h, 7d, 2w')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print one JSON document')
    .action(async (options: { olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      const { gcBranches, parseAge } = await import('../../commands/branch.js');
      const removed = await gcBranches(ctx.config, ctx.log, { olderThanMs: options.olderThan === undefined ? undefined : parseAge(options.olderThan), dryRun: options.dryRun });
      ctx.out(asJson(options) ? json(removed) : formatRemoved(removed, options.dryRun === true));
    });
}

export function registerBranchCommands(program: Command, ctx: CliContext): void {
  const branch = program
    .command('branch')
    .description("one database per git branch: without subcommand, the current branch's (PG_DATABASE is always the current branch's database)")
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const { currentBranch } = await import('../../commands/branch.js');
      const current = await currentBranch(ctx.config);
      if (options.json) return ctx.out(json(current));
      ctx.out(`${current.branch ?? '(not labelled yet: the next switch labels it)'}\n`);
      if (current.matchesGit === false) ctx.log.warn(`git has ${current.gitBranch} checked out: \`database branch switch\` (or \`database branch install-hook\` to switch on checkout)`);
    });

  // `branch --json` and `branch list --json`: commander gives the flag to `branch` either way.
  const asJson = (options: { json?: boolean }): boolean => options.json === true || (branch.opts() as { json?: boolean }).json === true;

  branch
    .command('switch')
    .description("make NAME's database the one PG_DATABASE names (a first visit copies the nearest branch's and applies pending migrations); sessions connected are ended")
    .argument('[name]', 'branch (default: the branch git has checked out)')
    .option('--hook', 'called by the post-checkout hook: no branch or no running cluster is not an error')
    .action(async (name: string | undefined, options: { hook?: boolean }) => {
      const { switchCommand } = await import('../../commands/branch.js');
      const result = await switchCommand(ctx.config, ctx.log, { name, hook: options.hook });
      for (const line of formatSwitch(result)) ctx.log.info(line);
    });

  branch
    .command('list')
    .description('branches with a database: size, last used, pending migrations')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const { listBranches } = await import('../../commands/branch.js');
      const branches = await listBranches(ctx.config);
      ctx.out(asJson(options) ? json(branches) : formatList(branches));
    });

  registerBranchRemoval(branch, ctx, asJson);

  branch
    .command('install-hook')
    .description('add a git post-checkout hook that switches on branch checkouts (an existing hook is kept and run first)')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const { installHook } = await import('../../commands/branch.js');
      const result = await installHook(ctx.config, launcherOfThisInstall());
      if (asJson(options)) return ctx.out(json(result));
      ctx.log.info(result.outcome === 'installed' ? `installed ${result.hook}${result.chained ? ` (the previous hook runs first, from ${result.chained})` : ''}` : `${result.hook} switches already; nothing changed`);
    });
}

/**
 * `database branch install-hook`: git's post-checkout hook, chained with a hook already
 * there (never overwritten), idempotent, in the folder core.hooksPath names. Runs the
 * installed hook through real `git checkout`s; the cluster is not running, so the hook's
 * switch says so and lets the checkout succeed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { baseEnv, makeTempDir } from './helpers/env.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function repository(): { dir: string; env: Record<string, string>; git: (...args: string[]) => { status: number | null; out: string } } {
  const dir = makeTempDir('db-tool-hook-');
  dirs.push(dir);
  const env = { LOCAL_DIR: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, env: baseEnv(env), encoding: 'utf8' });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  };
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'file'), 'one\n');
  git('add', '-A');
  git('commit', '-qm', 'one');
  return { dir, env, git };
}

describe('database branch install-hook', () => {
  it("chains an existing hook (run first, with git's arguments), installs once, and skips file checkouts", async () => {
    const { dir, env, git } = repository();
    const hooks = path.join(dir, '.git', 'hooks');
    const mine = path.join(hooks, 'post-checkout');
    fs.writeFileSync(mine, `#!/bin/sh\necho "own hook $3" >> "${dir}/own.log"\n`, { mode: 0o755 });

    const first = await runBin('database', ['branch', 'install-hook', '--json'], { env, cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ hook: mine, outcome: 'installed', chained: `${mine}.pre-db-tool` });
    const installed = fs.readFileSync(mine, 'utf8');
    expect(fs.readFileSync(`${mine}.pre-db-tool`, 'utf8')).toContain('own hook');

    const second = await runBin('database', ['branch', 'install-hook'], { env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('nothing changed');
    expect(fs.readFileSync(mine, 'utf8')).toBe(installed);
    expect(fs.readFileSync(`${mine}.pre-db-tool`, 'utf8')).toContain('own hook');

    const branch = git('checkout', '-b', 'other');
    expect(branch.status, branch.out).toBe(0);
    expect(branch.out).toContain('database branch: not switched: the project cluster is not running');
    fs.writeFileSync(path.join(dir, 'file'), 'changed\n');
    const files = git('checkout', 'main', '--', 'file');
    expect(files.status).toBe(0);
    expect(files.out).not.toContain('database branch');
    // The previous hook ran on both checkouts, with git's arguments.
    expect(fs.readFileSync(path.join(dir, 'own.log'), 'utf8')).toBe('own hook 1\nown hook 0\n');
  });

  it('installs into the folder core.hooksPath names', async () => {
    const { dir, env, git } = repository();
    git('config', 'core.hooksPath', '.githooks');
    const result = await runBin('database', ['branch', 'install-hook', '--json'], { env, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).hook).toBe(path.join(dir, '.githooks', 'post-checkout'));
    expect(fs.existsSync(path.join(dir, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(git('checkout', '-b', 'other').out).toContain('database branch: not switched');
  });

  it('refuses outside a git repository, in one line', async () => {
    const dir = makeTempDir('db-tool-hook-');
    dirs.push(dir);
    const result = await runBin('database', ['branch', 'install-hook'], { env: { LOCAL_DIR: dir, GIT_CEILING_DIRECTORIES: path.dirname(dir) }, cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('not in a git repository');
  });
});

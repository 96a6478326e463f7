/**
 * `database completion bash|zsh|fish`: scripts generated from the commander programs,
 * exercised in the real shells — bash through its completion function and COMPREPLY,
 * zsh through its completion function with the completion system's builtins recorded,
 * fish through `complete -C`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, runProgram } from './helpers/cli.js';
import { BIN, makeTempDir } from './helpers/env.js';

let dir: string;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  dir = makeTempDir('db-tool-completion-');
  // A project with one migration and a few files, for names and file completion.
  fs.mkdirSync(path.join(dir, 'db', 'migration', '20240101000000-first'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'db', 'migration', '20240101000000-first', 'up.sql'), 'SELECT 1;\n');
  fs.writeFileSync(path.join(dir, 'db', 'migration', '20240101000000-first', 'down.sql'), 'SELECT 1;\n');
  fs.writeFileSync(path.join(dir, 'settings.env'), 'A=1\n');
  fs.writeFileSync(path.join(dir, 'settings two.env'), 'A=1\n');
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await runBin('database', ['completion', shell]);
    expect(result.code, result.stderr).toBe(0);
    scripts[shell] = path.join(dir, `completion.${shell}`);
    fs.writeFileSync(scripts[shell]!, result.stdout);
  }
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ PATH: `${BIN}:${process.env.PATH}`, LOCAL_DIR: dir });

it('refuses an unknown shell (exit 1) and parses in bash, zsh and fish', async () => {
  const unknown = await runBin('database', ['completion', 'tcsh']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("database completion: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish");
  for (const [shell, flag] of [['bash', '-n'], ['zsh', '-n'], ['fish', '--no-execute']] as const) {
    const parsed = await runProgram(shell, [flag, scripts[shell]!]);
    expect(parsed.code, `${shell}: ${parsed.stderr}`).toBe(0);
  }
});

describe('bash', () => {
  /** COMPREPLY for a command line whose last word is being completed. */
  async function complete(...words: string[]): Promise<string[]> {
    const script = `source "$SCRIPT"
COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_db_tool
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await runProgram('bash', ['-c', script], { env: { ...env(), SCRIPT: scripts.bash }, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.split('\n').filter(Boolean).sort();
  }

  it('registers one function for the four executables', async () => {
    const result = await runProgram('bash', ['-c', 'source "$SCRIPT"; complete -p database migrator postgres-init postgres-cleanup'], { env: { SCRIPT: scripts.bash } });
    expect(result.stdout.trim().split('\n')).toEqual(['database', 'migrator', 'postgres-init', 'postgres-cleanup'].map((name) => `complete -F _db_tool ${name}`));
  });

  it('completes commands, subcommands and options at every level, global options skipped', async () => {
    expect(await complete('database', 'de')).toEqual(['deploy']);
    expect(await complete('database', 'sc')).toEqual(['scaffold']);
    expect(await complete('database', 'deploy', '--c')).toEqual(['--cleanup']);
    expect(await complete('database', '-u', 'postgresql://x', 'comp')).toEqual(['completion']);
    expect(await complete('database', 'diff', '')).toEqual(expect.arrayContaining(['log']));
    expect(await complete('database', 'migrator', 'migrate', '')).toEqual(['down', 'status', 'to', 'up']);
    expect(await complete('migrator', '-d', 'db/migration', 'migrate', 'st')).toEqual(['status']);
    expect(await complete('migrator', 'migrate', 'up', '')).toEqual(['all', 'head', 'latest']);
    expect(await complete('postgres-init', '--e')).toEqual(['--env', '--env-file']);
    expect(await complete('database', 'completion', '')).toEqual(['bash', 'fish', 'zsh']);
    expect(await complete('database', 'help', 'dep')).toEqual(['deploy']);
  });

  it('completes files for path values (also after =), and migration names for migrate to', async () => {
    expect(await complete('database', '--env-file', 'sett')).toEqual(['settings two.env', 'settings.env']);
    expect(await complete('database', '--env-file', '=', 'settings.')).toEqual(['settings.env']);
    expect(await complete('database', 'migrator', 'migrate', 'to', '')).toEqual(['20240101000000-first', 'head', 'last', 'latest']);
  });
});

describe('zsh', () => {
  /**
   * Runs the completion function with the completion system's builtins recorded
   * (_describe, compadd, _files), the way zsh calls it for `words` and CURRENT.
   */
  async function complete(...words: string[]): Promise<string[]> {
    const script = `_describe() { print -rl -- "\${(@)\${(P)\${@[-1]}}%%:*}"; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
_files() { print -r -- "<files$*>"; }
compset() { :; }
source "$SCRIPT"
words=(${words.map((word) => `'${word}'`).join(' ')})
CURRENT=\${#words}
_db_tool`;
    const result = await runProgram('zsh', ['-f', '-c', script], { env: { ...env(), SCRIPT: scripts.zsh }, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const typed = words.at(-1) ?? '';
    return result.stdout.split('\n').filter((word) => word && (word.startsWith('<') || word.startsWith(typed.replace(/^.*=/, '')))).sort();
  }

  it('completes commands, options and values from the same table', async () => {
    expect(await complete('database', 'de')).toEqual(['deploy']);
    expect(await complete('database', 'deploy', '--c')).toEqual(['--cleanup']);
    expect(await complete('database', 'migrator', 'migrate', '')).toEqual(['down', 'status', 'to', 'up']);
    expect(await complete('migrator', '--migration-dir', 'db/migration', 'migrate', 'to', '')).toEqual(['20240101000000-first', 'head', 'last', 'latest']);
    expect(await complete('database', '--env-file', '')).toEqual(['<files>']);
    expect(await complete('database', '--env-file=')).toEqual(['<files>']);
    expect(await complete('database', 'test', '')).toEqual(['<files>']);
    expect(await complete('migrator', '-d', '')).toEqual(['<files-/>']);
  });

  it('registers itself with compdef when sourced after compinit', async () => {
    const result = await runProgram('zsh', ['-f', '-c', 'autoload -U compinit && compinit -u -d "$DIR/zcompdump" && source "$SCRIPT" && print -r -- $_comps[database] $_comps[migrator] $_comps[postgres-init]'], {
      env: { SCRIPT: scripts.zsh, DIR: dir },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('_db_tool _db_tool _db_tool');
  });
});

describe('fish', () => {
  async function complete(line: string): Promise<string[]> {
    const result = await runProgram('fish', ['--no-config', '-c', 'source $SCRIPT; complete -C $LINE'], { env: { ...env(), SCRIPT: scripts.fish, LINE: line }, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/\t.*/, '')).sort();
  }

  it('completes commands with descriptions, options, and values', async () => {
    const described = await runProgram('fish', ['--no-config', '-c', 'source $SCRIPT; complete -C "database sca"'], { env: { ...env(), SCRIPT: scripts.fish } });
    expect(described.stdout.trim()).toMatch(/^scaffold\tmake a new project in LOCAL_DIR, else the current directory/);
    expect(await complete('database de')).toEqual(['deploy']);
    expect(await complete('database deploy --c')).toEqual(['--cleanup']);
    expect(await complete('database migrator migrate ')).toEqual(['down', 'status', 'to', 'up']);
    expect(await complete('database migrator migrate to ')).toEqual(['20240101000000-first', 'head', 'last', 'latest']);
    expect(await complete('database --env-file sett')).toEqual(['settings two.env', 'settings.env']);
    expect(await complete('database --env-file=settings.')).toEqual(['--env-file=settings.env']);
    expect(await complete('postgres-cleanup --')).toEqual(['--env-file', '--help', '--version']);
  });
});

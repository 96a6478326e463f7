/**
 * Generated bad input (SPEC §12 "Bad input", §17 "Security"): a table of hostile values —
 * newlines, terminal escapes, NUL, megabyte strings, bad ports, CR-only and BOM dotenv
 * files, FIFOs, /dev/zero, symlink loops, paths through a file or too long — run through
 * the real executables. Each must end with its documented exit code (never 13, the code
 * of a program bug), at most a couple of lines on stderr, no raw control character and no
 * stack trace; a process timeout guards against hangs (it is not a timed assertion).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';

type Exe = 'database' | 'migrator' | 'postgres-init' | 'postgres-cleanup';

interface HostileCase {
  title: string;
  exe: Exe;
  /** Arguments; a function when they need the scratch folder. */
  args: (dir: string) => string[];
  env?: (dir: string) => Record<string, string>;
  /** The documented exit code (SPEC §10). */
  code: number;
  /** Lines stderr may have at most (the message, and maybe a hint). */
  maxLines?: number;
  /** Text that must not reach stderr (a password, a line of a dotenv file). */
  hidden?: string[];
}

const ESC = '\x1b';
/** A whole argument may hold at most 128 KiB on Linux: so "a megabyte" goes through a file. */
const BIG = 'A'.repeat(100_000);

let scratch: string;

/** Writes `name` below the scratch folder. */
function put(name: string, content: string | Buffer): string {
  const file = path.join(scratch, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** A migration folder holding one entry called `name` (a folder with up.sql and down.sql). */
function migrationDirWith(label: string, name: string): string {
  const dir = path.join(scratch, `migrations-${label}`);
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, 'up.sql'), 'SELECT 1;\n');
  fs.writeFileSync(path.join(dir, name, 'down.sql'), 'SELECT 1;\n');
  return dir;
}

function symlinkLoopDir(): string {
  const dir = path.join(scratch, 'migrations-loop');
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync('20240101000000-self', path.join(dir, '20240101000000-self'));
  fs.symlinkSync(path.join(dir, 'b'), path.join(dir, 'a'));
  fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'b'));
  return dir;
}

const URL_CASES: Array<[string, string, number]> = [
  ['a newline in the host', 'postgresql://u@h\nINJECTED LINE/db', 1],
  ['a terminal escape in the host', `postgresql://u@h${ESC}[31mRED${ESC}[0m/db`, 1],
  ['a NUL (%00) in the host', 'postgresql://u@%00h/db', 1],
  ['a port above 65535 in the query', 'postgres://[::1]:1/db?port=70000', 1],
  ['a port above 65535 in the authority', 'postgresql://u@127.0.0.1:99999/db', 1],
  ['a 100 kB query value', `postgresql://u@127.0.0.1:1/db?application_name=${BIG}`, 1],
  ['a password with a space, to an unreachable port', 'postgresql://u:PW LEAK@127.0.0.1:1/db', 1],
  ['no URL at all, with an escape', `not-a-url${ESC}[2J`, 1],
];

function cases(): HostileCase[] {
  const list: HostileCase[] = [];
  for (const [title, url, code] of URL_CASES) {
    list.push({ title: `migrator -u: ${title}`, exe: 'migrator', args: (dir) => ['-u', url, '-d', path.join(dir, 'empty'), 'migrate', 'up'], code, hidden: ['LEAK'] });
    list.push({ title: `database --url: ${title}`, exe: 'database', args: () => ['--url', url, 'hydrate'], env: (dir) => ({ LOCAL_DIR: path.join(dir, 'project') }), code, hidden: ['LEAK'] });
  }
  list.push(
    // Environment values.
    { title: 'PG_PORT with a newline', exe: 'database', args: () => ['status'], env: () => ({ PG_PORT: '5432\nINJECTED', PG_WORKING_DIR: '/nonexistent' }), code: 1 },
    { title: 'HECTIC_LOG with an escape', exe: 'migrator', args: () => ['list'], env: () => ({ HECTIC_LOG: `${ESC}[31mloud` }), code: 1 },
    { title: 'PG_URL_VAR of 100 kB', exe: 'database', args: () => ['status'], env: () => ({ PG_URL_VAR: `${BIG}-` }), code: 1 },
    { title: 'LOCAL_DIR through a file (ENOTDIR): doctor', exe: 'database', args: () => ['doctor'], env: () => ({ LOCAL_DIR: '/etc/hostname/project' }), code: 1 },
    { title: 'LOCAL_DIR through a file (ENOTDIR): migrator list', exe: 'migrator', args: () => ['list'], env: () => ({ LOCAL_DIR: '/etc/hostname/project' }), code: 1 },
    { title: 'LOCAL_DIR too long (ENAMETOOLONG): doctor', exe: 'database', args: () => ['doctor'], env: (dir) => ({ LOCAL_DIR: path.join(dir, 'x'.repeat(300), 'y'.repeat(5000)) }), code: 1 },
    { title: 'LOCAL_DIR too long (ENAMETOOLONG): migrator list', exe: 'migrator', args: () => ['list'], env: (dir) => ({ LOCAL_DIR: path.join(dir, 'x'.repeat(5000)) }), code: 1 },
    // --env-file: what is not a small regular file fails at once.
    { title: '--env-file /dev/zero', exe: 'database', args: () => ['--env-file', '/dev/zero', 'status'], code: 3 },
    { title: '--env-file a FIFO nobody writes', exe: 'migrator', args: (dir) => ['--env-file', path.join(dir, 'fifo'), 'migrate', 'status'], code: 3 },
    { title: '--env-file a folder', exe: 'postgres-cleanup', args: (dir) => ['--env-file', dir], code: 3 },
    { title: '--env-file of 2 MB', exe: 'database', args: (dir) => ['--env-file', path.join(dir, 'big.env'), 'status'], code: 3 },
    { title: '--env-file with a self-referencing symlink', exe: 'migrator', args: (dir) => ['--env-file', path.join(dir, 'self.env'), 'list'], code: 3 },
    {
      title: '--env-file with CR-only lines and a bad value: the line is named, never echoed',
      exe: 'database',
      args: (dir) => ['--env-file', path.join(dir, 'cr.env'), 'status'],
      code: 1,
      hidden: ['debug', 'export', 'SECRET'],
    },
    { title: '--env-file with CR-only lines and a bad line', exe: 'migrator', args: (dir) => ['--env-file', path.join(dir, 'cr-bad.env'), 'list'], code: 3, hidden: ['SECRET'] },
    { title: '--env-file whose value holds escapes and a megabyte', exe: 'migrator', args: (dir) => ['--env-file', path.join(dir, 'hostile.env'), 'migrate', 'status'], code: 1 },
    // Migration folders.
    { title: 'a self-referencing symlink in the migration folder: list', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-loop'), 'list'], code: 1 },
    { title: 'a self-referencing symlink in the migration folder: migrate status', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-loop'), '-u', 'postgresql://u@127.0.0.1:1/db', 'migrate', 'status'], code: 1 },
    { title: 'a self-referencing symlink in the migration folder: status --json', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-loop'), '-u', 'postgresql://u@127.0.0.1:1/db', 'status', '--json'], code: 1 },
    { title: 'a migration folder named with a newline', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-newline'), 'list'], code: 1 },
    { title: 'a migration folder named with an escape', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-escape'), 'list'], code: 1 },
    { title: 'a dated migration folder named with an escape', exe: 'migrator', args: (dir) => ['-d', path.join(dir, 'migrations-dated-escape'), 'list'], code: 1 },
    { title: 'a migration folder path with an escape that does not exist', exe: 'migrator', args: (dir) => ['-d', path.join(dir, `missing${ESC}[31m`), 'list'], code: 1 },
    // Arguments.
    { title: 'migrator --force without a command', exe: 'migrator', args: () => ['--force'], code: 1 },
    { title: 'database --inherits -1 without a command', exe: 'database', args: () => ['--inherits', '-1'], code: 1 },
    { title: 'database --allow-remote without a command', exe: 'database', args: () => ['--allow-remote'], code: 1 },
    { title: 'an unknown command with an escape', exe: 'database', args: () => [`${ESC}[31mdeploy`], code: 9 },
    { title: 'an unknown option with a newline', exe: 'migrator', args: () => ['list', '--x\nINJECTED'], code: 9 },
    { title: 'a 100 kB unknown command', exe: 'database', args: () => [BIG], code: 9 },
  );
  return list;
}

/** stderr's verdict: the problems found, none when it is one or two clean lines. */
function problems(result: CliResult, hostile: HostileCase): string[] {
  const found: string[] = [];
  const lines = result.stderr.replace(/\n$/, '').split('\n');
  if (result.code === 13) found.push('exit 13 (a program bug)');
  if (result.code !== hostile.code) found.push(`exit ${result.code}, expected ${hostile.code}`);
  if (result.stderr.trim() === '') found.push('no message at all');
  if (lines.length > (hostile.maxLines ?? 2)) found.push(`${lines.length} lines on stderr`);
  // eslint-disable-next-line no-control-regex -- raw control characters are what is looked for
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(result.stderr)) found.push('a raw control character on stderr');
  if (/^\s+at .+\(.+:\d+:\d+\)$/m.test(result.stderr)) found.push('a stack trace');
  if (result.stderr.length > 2000) found.push(`${result.stderr.length} characters on stderr`);
  if (/INJECTED/.test(lines.slice(1).join('\n')) || /^INJECTED/m.test(result.stderr)) found.push('input started a line of its own');
  for (const text of hostile.hidden ?? []) if (result.stderr.includes(text)) found.push(`"${text}" shown`);
  return found;
}

let cluster: TestCluster;

beforeAll(async () => {
  scratch = makeTempDir('db-tool-hostile-');
  fs.mkdirSync(path.join(scratch, 'empty'));
  fs.mkdirSync(path.join(scratch, 'project', 'db', 'src'), { recursive: true });
  fs.writeFileSync(path.join(scratch, 'project', 'db', 'src', 'entrypoint.sql'), 'SELECT 1;\n');
  execFileSync('mkfifo', [path.join(scratch, 'fifo')]);
  put('big.env', `A=${'x'.repeat(2 * 1024 * 1024)}\n`);
  fs.symlinkSync(path.join(scratch, 'self.env'), path.join(scratch, 'self.env'));
  put('cr.env', 'HECTIC_LOG=info\rPG_URL_VAR==debug\rexport SECRET=1\r');
  put('cr-bad.env', '\uFEFFA=1\rB=2\rSECRET without equals\r');
  put('hostile.env', `\uFEFFDB_URL=postgresql://u@h${ESC}[31m/db?application_name=${'B'.repeat(900_000)}\r\n`);
  symlinkLoopDir();
  migrationDirWith('newline', 'bad\nINJECTED');
  migrationDirWith('escape', `bad${ESC}[31mred`);
  migrationDirWith('dated-escape', `20240101000000-x${ESC}[31mred`);
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('hostile input', () => {
  it.each(cases().map((hostile) => [hostile.title, hostile] as const))('%s: one clean line, the documented exit code', async (_title, hostile) => {
    // The timeout is a hang guard: a killed run fails the exit-code check.
    const result = await runBin(hostile.exe, hostile.args(scratch), { env: hostile.env?.(scratch), timeoutMs: 30_000 });
    expect(problems(result, hostile), result.stderr.slice(0, 2000)).toEqual([]);
  });
});

describe('an include loop in the SQL sources', () => {
  it('is named, file by file, in one line', async () => {
    const project = path.join(scratch, 'looping');
    const src = path.join(project, 'db', 'src');
    fs.mkdirSync(path.join(src, 'schema'), { recursive: true });
    fs.writeFileSync(path.join(src, 'entrypoint.sql'), "SELECT 1;\n\\ir 'schema/tables.sql'\n");
    fs.writeFileSync(path.join(src, 'schema', 'tables.sql'), 'SELECT 2;\n\\ir views.sql\n');
    fs.writeFileSync(path.join(src, 'schema', 'views.sql'), '\\ir ../entrypoint.sql\n');
    const result = await runBin('database', ['--url', cluster.url, 'hydrate', '--no-hook'], { env: { LOCAL_DIR: project }, timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    const error = result.stderr.split('\n').find((line) => line.includes('include loop'));
    expect(error, result.stderr.slice(-2000)).toBeDefined();
    expect(error).toMatch(/entrypoint\.sql → .*schema\/tables\.sql → .*schema\/views\.sql → .*entrypoint\.sql/);
  });

  it('is named in a migration too, not as psql crashing', async () => {
    const migrations = path.join(scratch, 'looping-migrations');
    const up = path.join(migrations, '20240101000000-loop', 'up');
    fs.mkdirSync(up, { recursive: true });
    fs.writeFileSync(path.join(up, 'entrypoint.sql'), '\\ir more.sql\n');
    fs.writeFileSync(path.join(up, 'more.sql'), '\\ir entrypoint.sql\n');
    fs.writeFileSync(path.join(migrations, '20240101000000-loop', 'down.sql'), 'SELECT 1;\n');
    const result = await runBin('migrator', ['-u', cluster.url, '-d', migrations, 'migrate', 'up', 'all'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/include loop: .*up\/entrypoint\.sql → .*up\/more\.sql → .*up\/entrypoint\.sql/);
  });
});

/**
 * `database scaffold` (SPEC §5): a new project's layout, and then the newcomer's flow —
 * check, deploy, test, migrate status, backup, diff — passes as it is, on real
 * PostgreSQL. Nothing that exists is overwritten.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin, runProgram, type CliResult } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';
import { processesMentioning } from './helpers/project.js';

const projects: string[] = [];

afterEach(async () => {
  for (const dir of projects.splice(0)) {
    await runBin('postgres-cleanup', [], { env: { LOCAL_DIR: dir } });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function project(): string {
  const dir = makeTempDir('db-tool-scaffold-');
  projects.push(dir);
  return dir;
}

/** Every file below `dir` (focus/ excluded) with a hash of its content. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || path.relative(dir, full).startsWith('focus')) continue;
    files[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return files;
}

function expectOk(result: CliResult, what: string): void {
  expect(result.code, `${what}:\n${result.stderr}`).toBe(0);
}

describe('database scaffold', () => {
  it('makes a project on which check, deploy, test, migrate status, backup and diff pass as they are', async () => {
    const dir = project();
    const env = { LOCAL_DIR: dir };
    const scaffold = await runBin('database', ['scaffold'], { env });
    expectOk(scaffold, 'scaffold');
    const [migration] = fs.readdirSync(path.join(dir, 'db', 'migration'));
    expect(migration).toMatch(/^[0-9]{14}-create-todo$/);
    expect(Object.keys(snapshot(dir)).sort()).toEqual(
      ['.env.example', '.gitignore', `db/migration/${migration}/down.sql`, `db/migration/${migration}/up.sql`, 'db/src/entrypoint.sql', 'db/test/test.sql', 'test-data.sql'].sort(),
    );
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['focus/', '.env']));
    expect(fs.readFileSync(path.join(dir, 'db', 'src', 'entrypoint.sql'), 'utf8')).toContain('must inherit hectic.created_at');
    expect(scaffold.stderr).toContain('created db/src/entrypoint.sql');

    expectOk(await runBin('database', ['check'], { env }), 'check');
    expect(processesMentioning(dir)).toEqual([]);
    expectOk(await runBin('database', ['deploy'], { env }), 'deploy');
    const tested = await runBin('database', ['test', '-v'], { env });
    expectOk(tested, 'test');
    expect(tested.stdout).toContain('ok 3 - a new todo gets created_at and is not done');
    expect(tested.stdout).not.toContain('not ok');
    // Deploy built the database from the sources, which stand for every migration on disk.
    const status = await runBin('database', ['migrator', 'migrate', 'status'], { env });
    expectOk(status, 'migrate status');
    expect(status.stdout).toMatch(new RegExp(`^${migration}  applied  `));
    expectOk(await runBin('database', ['backup'], { env }), 'backup');
    const diff = await runBin('database', ['diff'], { env });
    expectOk(diff, 'diff');
    expect(diff.stdout).toMatch(/^database diff: no differences/);
    expectOk(await runBin('database', ['cleanup'], { env }), 'cleanup');
  });

  it('explains the inheritance rule with the error PostgreSQL really gives', async () => {
    const dir = project();
    const env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    expectOk(await runBin('database', ['scaffold'], { env }), 'scaffold');
    const deployed = await runBin('database', ['deploy', '--no-patch'], { env });
    expectOk(deployed, 'deploy');
    const url = /deployed: (\S+)/.exec(deployed.stderr)?.[1] ?? '';
    const refused = await runProgram('psql', ['-X', '-d', url, '-c', 'CREATE TABLE app.todo_without_parent (id int)']);
    expect(refused.code).not.toBe(0);
    // The entrypoint quotes the first line of this error and the start of its HINT.
    const entrypoint = fs.readFileSync(path.join(dir, 'db', 'src', 'entrypoint.sql'), 'utf8');
    expect(refused.stderr).toContain('ERROR:  table app.todo_without_parent must inherit hectic.created_at');
    expect(refused.stderr).toContain('HINT:  CREATE TABLE app.todo_without_parent (…) INHERITS (hectic.created_at);');
    expect(entrypoint).toContain('--   ERROR:  table app.todo must inherit hectic.created_at');
    expect(entrypoint).toContain('--   HINT:   CREATE TABLE app.todo (…) INHERITS (hectic.created_at); …');
  });

  it('overwrites nothing, and writes no examples beside an entrypoint of your own', async () => {
    const dir = project();
    fs.mkdirSync(path.join(dir, 'db', 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'db', 'src', 'entrypoint.sql'), 'CREATE SCHEMA IF NOT EXISTS mine;\n');
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n/focus');
    fs.writeFileSync(path.join(dir, '.env.example'), 'MINE=1\n');
    const before = snapshot(dir);
    const result = await runBin('database', ['scaffold'], { env: { LOCAL_DIR: dir } });
    expectOk(result, 'scaffold');
    const after = snapshot(dir);
    for (const file of ['db/src/entrypoint.sql', '.env.example']) expect(after[file], file).toBe(before[file]);
    expect(fs.existsSync(path.join(dir, 'db', 'migration'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'db', 'test', 'test.sql'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'test-data.sql'))).toBe(false);
    // /focus counts as focus/; only .env was missing, and the last line had no newline.
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe(
      'node_modules\n/focus\n# db-tool: local settings (see .env.example)\n.env\n' +
        '# db-tool: secrets (.env.local, .env.$ENVIRONMENT); .env.example is shared\n.env.*\n!.env.example\n',
    );
    expect(result.stderr).toContain('skipped db/src/entrypoint.sql (exists)');
    expect(result.stderr).toMatch(/skipped db\/migration\/<timestamp>-create-todo \(not written: the examples are about app.todo/);

    const second = await runBin('database', ['scaffold'], { env: { LOCAL_DIR: dir } });
    expectOk(second, 'second scaffold');
    expect(snapshot(dir)).toEqual(after);
    expect(second.stderr).toContain('nothing to do');
  });

  it('adds no first migration to a folder that has migrations', async () => {
    const dir = project();
    fs.mkdirSync(path.join(dir, 'db', 'migration', '20240101000000-old'), { recursive: true });
    const result = await runBin('database', ['scaffold'], { env: { LOCAL_DIR: dir } });
    expectOk(result, 'scaffold');
    expect(fs.readdirSync(path.join(dir, 'db', 'migration'))).toEqual(['20240101000000-old']);
    expect(result.stderr).toContain('(not written: the migration folder has migrations)');
  });

  it('without LOCAL_DIR makes the project in the current directory, even below another project', async () => {
    const outer = project();
    fs.mkdirSync(path.join(outer, 'db'));
    const dir = path.join(outer, 'new');
    fs.mkdirSync(dir);
    const result = await runBin('database', ['scaffold'], { cwd: dir, env: { LOCAL_DIR: undefined } });
    expectOk(result, 'scaffold');
    expect(fs.existsSync(path.join(dir, 'db', 'src', 'entrypoint.sql'))).toBe(true);
    expect(fs.readdirSync(path.join(outer, 'db'))).toEqual([]);
  });

  it('has git ignore .env and every .env.* (the secrets .env.example describes) but .env.example', async () => {
    const dir = project();
    expectOk(await runBin('database', ['scaffold'], { env: { LOCAL_DIR: dir } }), 'scaffold');
    expect((await runProgram('git', ['init', '-q'], { cwd: dir })).code).toBe(0);
    const files = ['.env', '.env.local', '.env.production', '.env.example', 'focus/x'];
    const ignored = await runProgram('git', ['check-ignore', ...files], { cwd: dir });
    expect(ignored.stdout.split('\n').filter(Boolean).sort()).toEqual(['.env', '.env.local', '.env.production', 'focus/x']);
  });
});

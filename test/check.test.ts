/**
 * `database check` against a real PostgreSQL: the deploy flow in a private cluster
 * under $LOCAL_DIR/focus/postgresql-check-*, never PG_WORKING_DIR, that leaves no
 * server, psql or folder behind — on success, failure, concurrently, and on SIGINT and
 * SIGTERM (exit 130 / 143). Beside it, the migrations run from empty in a second private
 * cluster and must reproduce the sources (diff's comparison, diff's report, exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ramDirsOf } from '../src/cluster/ram-storage.js';
import { runBin } from './helpers/cli.js';
import { copyProject, focusEntries, processesMentioning, serversBelow, spawnDatabase, waitFor, type Project } from './helpers/project.js';
import { PG_DUMP_FITS_SERVER } from './helpers/pg-versions.js';

const projects: Project[] = [];

afterEach(() => {
  for (const project of projects.splice(0)) {
    for (const pid of processesMentioning(project.dir)) process.kill(pid, 'SIGKILL');
    project.remove();
  }
});

function newProject(): Project {
  const project = copyProject('deploy-project');
  projects.push(project);
  return project;
}

function env(project: Project): Record<string, string> {
  return { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
}

function check(project: Project, args: string[] = []) {
  return runBin('database', ['check', ...args], { env: env(project) });
}

/** Nothing of a check is left: no run folder, no data in RAM, no server, no psql, no PG_WORKING_DIR. */
async function expectNothingLeft(project: Project): Promise<void> {
  expect(focusEntries(project.dir)).toEqual([]);
  // The data in RAM goes in a detached rm (ram-storage.ts), right after the run.
  await waitFor(() => ramDirsOf(path.join(project.dir, 'focus')).length === 0, 30_000, 'the RAM data removed');
  expect(serversBelow(project.dir)).toEqual([]);
  expect(processesMentioning(project.dir)).toEqual([]);
}

describe('database check', () => {
  it('builds the database in a private cluster and removes it; PG_WORKING_DIR is never touched', async () => {
    const project = newProject();
    const result = await check(project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('hydrate-output-marker');
    expect(result.stdout).toContain('patch-output-marker');
    expect(result.stderr).toContain('check passed');
    await expectNothingLeft(project);
    expect(fs.existsSync(path.join(project.dir, 'focus', 'postgresql'))).toBe(false);
  });

  it('does not create a missing test-data.sql; -m, -P and --no-hydrate are honoured', async () => {
    const project = newProject();
    fs.rmSync(path.join(project.dir, 'test-data.sql'));
    const result = await check(project, ['--mock']);
    expect(result.code, result.stderr).toBe(0);
    expect(fs.existsSync(path.join(project.dir, 'test-data.sql'))).toBe(false);
    const skipped = await check(project, ['--no-hydrate', '-P']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).not.toContain('hydrate-output-marker');
    await expectNothingLeft(project);
  });

  it('a failing step → its exit code, and nothing is left', async () => {
    const project = newProject();
    fs.appendFileSync(path.join(project.dir, 'db', 'src', 'tables', 'item.sql'), '\nCREATE TABLE app.orphan (id int);\n');
    const result = await check(project);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('must inherit hectic.created_at');
    await expectNothingLeft(project);
  });

  it('-i/--inherits is checked in the private cluster: missing → exit 5, nothing left', async () => {
    const project = newProject();
    const ok = await runBin('database', ['-i', 'app.colour', 'check'], { env: env(project) });
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await runBin('database', ['-i', 'app.colour', '-i', 'app.unicorn', 'check'], { env: env(project) });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('app.unicorn');
    await expectNothingLeft(project);
  });

  it('two concurrent checks of one project both succeed', async () => {
    const project = newProject();
    const [first, second] = await Promise.all([check(project), check(project)]);
    expect(first?.code, first?.stderr).toBe(0);
    expect(second?.code, second?.stderr).toBe(0);
    await expectNothingLeft(project);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} during hydrate → exit ${code}; no server, psql or folder is left`, async () => {
      const project = newProject();
      const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
      fs.appendFileSync(entrypoint, '\nSELECT pg_sleep(60);\n');
      const { child, done } = spawnDatabase(['check'], env(project));
      try {
        // psql running the entrypoint means the private cluster is up and hydrate is under way.
        await waitFor(() => processesMentioning(`-f ${entrypoint}`).length > 0, 90_000, 'psql running the entrypoint');
        expect(serversBelow(path.join(project.dir, 'focus'))).toHaveLength(1);
        child.kill(signal);
        const result = await done;
        expect(result.code, result.stderr).toBe(code);
        await expectNothingLeft(project);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  it('SIGINT while the private cluster is being made → exit 130, nothing left', async () => {
    const project = newProject();
    const { child, done } = spawnDatabase(['check'], env(project));
    try {
      await waitFor(() => focusEntries(project.dir).length > 0, 90_000, 'the run folder');
      child.kill('SIGINT');
      const result = await done;
      expect(result.code, result.stderr).toBe(130);
      // A server started by a step still in flight must not survive either.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await expectNothingLeft(project);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** The fixture's sources as migrations: `forget` leaves a column or a reference row out. */
function writeMigrations(project: Project, forget: { column?: boolean; colour?: boolean } = {}): void {
  const dir = path.join(project.dir, 'db', 'migration');
  const first = path.join(dir, '20240101000000-schema');
  fs.mkdirSync(first, { recursive: true });
  fs.writeFileSync(path.join(first, 'up.sql'), [
    'CREATE SCHEMA app;',
    'CREATE TABLE app.colour (name text PRIMARY KEY) INHERITS (hectic.created_at, hectic.immutable);',
    'SET LOCAL hectic.migration_mode = \'on\';',
    `INSERT INTO app.colour (name) VALUES ('red')${forget.colour ? '' : ", ('green')"};`,
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(first, 'down.sql'), 'DROP SCHEMA app CASCADE;\n');
  const second = path.join(dir, '20240102000000-item');
  fs.mkdirSync(second);
  fs.writeFileSync(path.join(second, 'up.sql'), [
    'CREATE TABLE app.item (',
    '    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY' + (forget.column ? '' : ','),
    ...(forget.column ? [] : ['    name text NOT NULL']),
    ') INHERITS (hectic.created_at, hectic.updated_at);',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(second, 'down.sql'), 'DROP TABLE app.item;\n');
}

/**
 * A function and an index added to the sources, and a third migration for them that
 * changes the function's body and forgets the index.
 */
function addLabelWithDrift(project: Project): void {
  const source = path.join(project.dir, 'db', 'src');
  fs.writeFileSync(path.join(source, 'label.sql'), [
    'CREATE FUNCTION app.item_label(item_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(item_name) $$;',
    'CREATE INDEX item_name_idx ON app.item (name);',
    '',
  ].join('\n'));
  fs.appendFileSync(path.join(source, 'entrypoint.sql'), '\\ir label.sql\n');
  const third = path.join(project.dir, 'db', 'migration', '20240103000000-label');
  fs.mkdirSync(third);
  fs.writeFileSync(path.join(third, 'up.sql'), 'CREATE FUNCTION app.item_label(item_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(item_name) $$;\n');
  fs.writeFileSync(path.join(third, 'down.sql'), 'DROP FUNCTION app.item_label(text);\n');
}

// The proof compares schemas with pg_dump, which must be as new as the server (pg-matrix).
describe.skipIf(!PG_DUMP_FITS_SERVER)('database check proves the migrations', () => {
  it('migrations that reproduce the sources: exit 0, said in the last line, nothing left', async () => {
    const project = newProject();
    writeMigrations(project);
    const result = await check(project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('migrations: applied 2 migrations');
    expect(result.stderr).toContain('check passed: the database builds from scratch and its 2 migrations reproduce it from empty');
    expect(result.stdout).not.toContain('differences found');
    await expectNothingLeft(project);
  });

  it('a migration that forgot a column the sources declare: exit 1 with diff\'s report naming the table, nothing left', async () => {
    const project = newProject();
    writeMigrations(project, { column: true });
    const result = await check(project);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('database check (migrations vs sources): differences found');
    expect(result.stdout).toContain('DB1 = an empty database + migrate up all (2 migrations applied)');
    expect(result.stdout).toMatch(/^Changed:\n {2}TABLE app\.item$/m);
    expect(result.stdout).toContain('+    name text NOT NULL');
    expect(result.stderr).toMatch(/^error: check failed: the 2 migrations, run from empty, do not reproduce the sources/m);
    expect(result.stderr).not.toContain('check passed');
    await expectNothingLeft(project);
  });

  it('a migration that changed a function\'s body and forgot an index: exit 1, both named in diff\'s report', async () => {
    const project = newProject();
    writeMigrations(project);
    addLabelWithDrift(project);
    const result = await check(project);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^Only in DB2 \(sources\):\n {2}INDEX app\.item_name_idx$/m);
    expect(result.stdout).toMatch(/^Changed:\n {2}FUNCTION app\.item_label\(.*\)$/m);
    expect(result.stdout).toContain('upper(item_name)');
    expect(result.stderr).toMatch(/^error: check failed: the 3 migrations, run from empty, do not reproduce the sources/m);
    await expectNothingLeft(project);
  });

  it('reference data the migrations forgot (a table inheriting hectic.immutable) is a difference too', async () => {
    const project = newProject();
    writeMigrations(project, { colour: true });
    const result = await check(project);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('app.colour: 0 rows only in DB1, 1 row only in DB2');
    expect(result.stdout).toContain('--- IMMUTABLE TABLE DATA ---');
  });

  it('SIGTERM while both clusters run (a migration sleeps) → exit 143; neither cluster, nor psql, nor the run folder is left', async () => {
    const project = newProject();
    writeMigrations(project);
    const slow = path.join(project.dir, 'db', 'migration', '20240102000000-item', 'up.sql');
    fs.appendFileSync(slow, 'SELECT pg_sleep(60);\n');
    const { child, done } = spawnDatabase(['check'], env(project));
    try {
      await waitFor(() => serversBelow(path.join(project.dir, 'focus')).length === 2, 90_000, 'both clusters up');
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(143);
      await expectNothingLeft(project);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--no-migrations skips the proof (and says so); without a migration folder it is skipped silently', async () => {
    const project = newProject();
    const none = await check(project);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).not.toMatch(/migration/);
    expect(none.stderr).toMatch(/check passed: the database builds from scratch$/m);
    writeMigrations(project, { column: true });
    const skipped = await check(project, ['--no-migrations']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('migrations not proved (--no-migrations)');
    expect(skipped.stderr).not.toContain('migrations: applied');
    expect(skipped.stdout).not.toContain('differences found');
    await expectNothingLeft(project);
  });
});

describe.skipIf(!PG_DUMP_FITS_SERVER)("diff's report says where DB1 came from", () => {
  it('deploy → backup → diff: a deploy of the sources, whose migrations never ran (the drift check is database check)', async () => {
    const project = newProject();
    writeMigrations(project, { column: true });
    const projectEnv = env(project);
    try {
      for (const args of [['deploy'], ['backup']]) {
        const step = await runBin('database', args, { env: projectEnv });
        expect(step.code, step.stderr).toBe(0);
      }
      const result = await runBin('database', ['diff'], { env: projectEnv });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^database diff: no differences\n {2}DB1 = backup .* \(0 migrations applied\)\n {8}from a backup of \S+ taken \S+, a deploy of the sources: its 2 migrations were recorded as a baseline and never ran, so this compares the sources with themselves \(database check proves the migrations\)$/m);
    } finally {
      await runBin('postgres-cleanup', [], { env: projectEnv });
    }
  });
});

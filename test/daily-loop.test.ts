/**
 * The loop a developer repeats all day (issue 20), in a scaffolded project: nothing is
 * lost by a wipe (hints keep data, the warning only when rows would be lost, `database
 * restore --previous`), the running cluster is the truth about how to reach it, and the
 * project is found from where you stand. Terminal items go through a real terminal (tmux).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { BIN, makeTempDir } from './helpers/env.js';
import { queryValue, serversBelow } from './helpers/project.js';
import { startPane, tmuxAvailable, type TmuxPane } from './helpers/tmux.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Scaffolded {
  dir: string;
  /** Runs `database` in `cwd` (default the project root) without LOCAL_DIR. */
  database(args: string[], options?: { cwd?: string; env?: Record<string, string | undefined> }): ReturnType<typeof runBin>;
  url(): string;
}

/** A new project made by `database scaffold` in its folder, with no LOCAL_DIR anywhere. */
async function scaffolded(): Promise<Scaffolded> {
  const dir = makeTempDir('db-tool-loop-');
  cleanups.push(async () => {
    await runBin('database', ['cleanup'], { cwd: dir, env: { LOCAL_DIR: dir } });
    for (const pid of serversBelow(dir)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const env = { PG_SHARED_PRELOAD_LIBRARIES: '' };
  const project: Scaffolded = {
    dir,
    database: (args, options = {}) => runBin('database', args, { cwd: options.cwd ?? dir, env: { ...env, ...options.env } }),
    url: () => `postgresql://${encodeURIComponent(ownerOf(dir))}@/testdb?host=${path.join(dir, 'focus', 'postgresql', 'sock')}&port=5432`,
  };
  const made = await project.database(['scaffold']);
  expect(made.code, made.stderr).toBe(0);
  return project;
}

/** The cluster's superuser: the server account (root runs it as PG_OS_USER, default postgres). */
function ownerOf(dir: string): string {
  const data = path.join(dir, 'focus', 'postgresql', 'data');
  const uid = fs.statSync(fs.existsSync(data) ? data : dir).uid;
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  return passwd.find((fields) => Number(fields[2]) === uid)?.[0] ?? 'postgres';
}

const titles = (url: string): Promise<string[] | undefined> =>
  queryValue<string[]>(url, 'SELECT coalesce(array_agg(title ORDER BY id), ARRAY[]::text[]) FROM app.todo');

describe('nothing is lost by a wipe', () => {
  it('hints after postgres-cleanup propose `database init --reuse`, and following them keeps the data', async () => {
    const project = await scaffolded();
    expect((await project.database(['deploy'])).code).toBe(0);
    await queryValue(project.url(), "INSERT INTO app.todo (title) VALUES ('mine')");
    const stopped = await runBin('postgres-cleanup', [], { cwd: project.dir });
    expect(stopped.code, stopped.stderr).toBe(0);

    const hints = [
      await project.database(['test']),
      await project.database(['backup']),
      await project.database(['migrator', 'migrate', 'status']),
      // With the exported URL of the stopped cluster, too.
      await project.database(['test'], { env: { PGURL: project.url() } }),
    ];
    for (const hint of hints) {
      expect(hint.code, hint.stderr).not.toBe(0);
      expect(hint.stderr).toContain('database init --reuse');
      expect(hint.stderr).not.toMatch(/`database (init|deploy)`/);
    }
    const followed = await project.database(['init', '--reuse']);
    expect(followed.code, followed.stderr).toBe(0);
    expect(await titles(project.url())).toContain('mine');
  });

  it('warns only when user rows would be lost, naming `database restore --previous`, which brings them back', async () => {
    const project = await scaffolded();
    const first = await project.database(['deploy']);
    expect(first.code, first.stderr).toBe(0);
    // A deploy over what the last deploy built loses nothing: no warning.
    const again = await project.database(['deploy']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/replaces|PG_REUSE/);

    await queryValue(project.url(), "INSERT INTO app.todo (title) VALUES ('mine')");
    const wipe = await project.database(['deploy']);
    expect(wipe.code, wipe.stderr).toBe(0);
    const warnings = wipe.stderr.split('\n').filter((line) => line.includes('restore --previous'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('3 rows in testdb:app.todo');
    expect(wipe.stderr).not.toContain('PG_REUSE');
    expect(await titles(project.url())).not.toContain('mine');

    const status = await project.database(['status']);
    expect(status.stdout).toMatch(/previous:\s+.*data\.previous/);
    const restored = await project.database(['restore', '--previous']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await titles(project.url())).toContain('mine');
    // A swap: the deploy it replaced is the previous one now, so it can be undone too.
    const back = await project.database(['restore', '--previous']);
    expect(back.code, back.stderr).toBe(0);
    expect(await titles(project.url())).not.toContain('mine');
  });

  it('a deploy that fails half-way leaves the previous cluster restorable, also after the fixed deploy', async () => {
    const project = await scaffolded();
    expect((await project.database(['deploy'])).code).toBe(0);
    await queryValue(project.url(), "INSERT INTO app.todo (title) VALUES ('mine')");
    const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
    const sources = fs.readFileSync(entrypoint, 'utf8');
    fs.writeFileSync(entrypoint, `${sources}\nCREATE TABLE app.typo (id int) INHERITS (hectic.created_at);\nINSERT INTO app.todo (title) VALUES ('half');\nSELEC 1;\n`);
    const failed = await project.database(['deploy']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('restore --previous');
    fs.writeFileSync(entrypoint, sources);
    const fixed = await project.database(['deploy']);
    expect(fixed.code, fixed.stderr).toBe(0);
    // The half-built cluster held nothing a user made: the one with 'mine' stays the previous.
    expect(fixed.stderr).not.toContain('restore --previous');
    const restored = await project.database(['restore', '--previous']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await titles(project.url())).toContain('mine');
  });

  it('a half-built cluster whose rows someone changed afterwards is kept', async () => {
    const project = await scaffolded();
    const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
    const sources = fs.readFileSync(entrypoint, 'utf8');
    fs.writeFileSync(entrypoint, `${sources}\nSELEC 1;\n`);
    expect((await project.database(['deploy'])).code).toBe(1);
    await queryValue(project.url(), "INSERT INTO app.todo (title) VALUES ('typed by hand')");
    fs.writeFileSync(entrypoint, sources);
    const fixed = await project.database(['deploy']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain('1 row in testdb:app.todo');
    expect((await project.database(['restore', '--previous'])).code).toBe(0);
    expect(await titles(project.url())).toEqual(['typed by hand']);
  });

  it('PG_REUSE=0, false, no and empty mean no; restore --previous without a previous cluster says so', async () => {
    const project = await scaffolded();
    const none = await project.database(['restore', '--previous']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no previous cluster');
    expect((await project.database(['init'])).code).toBe(0);
    for (const no of ['0', 'false', 'no', '']) {
      await queryValue(project.url(), 'CREATE TABLE IF NOT EXISTS kept (id int)');
      await queryValue(project.url(), 'INSERT INTO kept VALUES (1)');
      const init = await runBin('postgres-init', [], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '', PG_REUSE: no } });
      expect(init.code, init.stderr).toBe(0);
      expect(await queryValue(project.url(), "SELECT to_regclass('kept') IS NULL"), `PG_REUSE='${no}'`).toBe(true);
    }
    const kept = await runBin('postgres-init', [], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '', PG_REUSE: 'yes' } });
    expect(kept.code, kept.stderr).toBe(0);
  });
});

describe.skipIf(!tmuxAvailable())('the running cluster is the truth', () => {
  let pane: TmuxPane | undefined;
  afterEach(() => {
    pane?.kill();
    pane = undefined;
  });

  it('eval "$(postgres-init --reuse --env)" leaves a running server and its psql session alone', async () => {
    const project = await scaffolded();
    expect((await project.database(['init'])).code).toBe(0);
    pane = await startPane({ PATH: `${BIN}:${process.env.PATH}`, PG_SHARED_PRELOAD_LIBRARIES: '' }, { columns: 200, rows: 40 });
    pane.run(`cd ${project.dir} && psql '${project.url()}'`);
    await pane.waitFor(/testdb=#/, 90_000);
    const reused = await runBin('postgres-init', ['--reuse', '--env'], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '' } });
    expect(reused.code, reused.stderr).toBe(0);
    expect(parseExports(reused.stdout).PGURL).toBe(project.url());
    expect(reused.stderr).not.toContain('restart');
    // \g, not a trailing `;`, which tmux would take for its own command separator.
    pane.run("SELECT 'still' || 'connected' \\g");
    const text = await pane.waitFor(/stillconnected/);
    expect(text).not.toContain('terminating connection');
    pane.run('\\q');

    // A setting a reload applies is reloaded, without a restart; one that needs a restart restarts it.
    await queryValue(project.url(), "ALTER SYSTEM SET work_mem = '8MB'");
    const reloaded = await runBin('postgres-init', ['--reuse'], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '' } });
    expect(reloaded.stderr).not.toContain('restart');
    expect(await queryValue(project.url(), 'SHOW work_mem')).toBe('8MB');
    await queryValue(project.url(), 'ALTER SYSTEM SET max_wal_senders = 3');
    const restarted = await runBin('postgres-init', ['--reuse'], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '' } });
    expect(restarted.stderr).toMatch(/settings changed \(max_wal_senders\): restarting it/);
    expect(await queryValue(project.url(), 'SHOW max_wal_senders')).toBe('3');

    // Changed settings restart it, and say so.
    const moved = await runBin('postgres-init', ['--reuse'], { cwd: project.dir, env: { PG_SHARED_PRELOAD_LIBRARIES: '', PG_PORT: '5498' } });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toMatch(/settings changed \(port 5432 → 5498.*restarting it/);
  });

  it('a cluster started with --env-file PG_PORT is found by later commands without it, which say where the environment disagrees', async () => {
    const project = await scaffolded();
    fs.writeFileSync(path.join(project.dir, '.env'), 'PG_PORT=5499\nPG_DATABASE=loopdb\n');
    const deployed = await project.database(['--env-file', '.env', 'deploy']);
    expect(deployed.code, deployed.stderr).toBe(0);
    pane = await startPane({ PATH: `${BIN}:${process.env.PATH}`, PG_SHARED_PRELOAD_LIBRARIES: '' }, { columns: 250, rows: 50 });
    pane.run(`cd ${project.dir}/db/test && database status && database test; echo "exit=$?"`);
    const text = await pane.waitFor(/exit=\d+/);
    expect(text).toMatch(/url: +postgresql:\/\/.*\/loopdb\?host=.*&port=5499/);
    expect(text).toContain('exit=0');
    expect(text).toMatch(/listens on port 5499, not 5432 \(PG_PORT\)/);
    expect(text).toMatch(/target: database loopdb on socket .*\(port 5499\)/);
    expect(text).not.toContain('ENOENT');
  });
});

describe('targets are named, and PGURL/DB_URL disagreements said', () => {
  it('migrator reads DB_URL first, database PGURL first; each says which it uses and which it ignores', async () => {
    const project = await scaffolded();
    expect((await project.database(['deploy'])).code).toBe(0);
    await queryValue(project.url(), 'CREATE DATABASE other');
    const other = project.url().replace('/testdb?', '/other?');
    const env = { PGURL: project.url(), DB_URL: other };
    const standalone = await runBin('migrator', ['migrate', 'status'], { cwd: project.dir, env });
    expect(standalone.stderr).toMatch(/using DB_URL \(database other on socket .*\), ignoring PGURL \(database testdb on socket/);
    expect(standalone.stderr).toMatch(/^target: database other on socket .*\/sock \(port 5432\)$/m);
    expect(standalone.stdout).toContain('pending');
    const up = await runBin('migrator', ['migrate', 'up'], { cwd: project.dir, env });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/^target: database other on socket .*\/sock \(port 5432\)$/m);
    const viaDatabase = await project.database(['migrator', 'migrate', 'status'], { env });
    expect(viaDatabase.stderr).toMatch(/using PGURL \(database testdb on socket .*\), ignoring DB_URL \(database other on socket/);
    expect(viaDatabase.stderr).toMatch(/^target: database testdb on socket/m);
    expect(viaDatabase.stdout).toContain('applied');
    // The same database twice: nothing to say.
    const same = await runBin('migrator', ['migrate', 'status'], { cwd: project.dir, env: { PGURL: project.url(), DB_URL: project.url() } });
    expect(same.stderr).not.toContain('ignoring');
    // Passwords never show.
    const secret = await runBin('migrator', ['migrate', 'status'], { cwd: project.dir, env: { DB_URL: 'postgresql://u:hunter2@127.0.0.1:1/x' } });
    expect(secret.stderr).toContain('target: database x on 127.0.0.1:1');
    expect(secret.stderr).not.toContain('hunter2');
  });
});

describe('the project is found where you stand', () => {
  it('finds the project from a subfolder without LOCAL_DIR; outside any project says to cd or export LOCAL_DIR', async () => {
    const project = await scaffolded();
    expect(fs.readdirSync(project.dir)).toEqual(expect.arrayContaining(['db', '.gitignore', '.env.example']));
    const status = await project.database(['status'], { cwd: path.join(project.dir, 'db', 'src') });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`data dir:   ${path.join(project.dir, 'focus', 'postgresql', 'data')}`);

    const nowhere = makeTempDir('db-tool-nowhere-');
    cleanups.push(() => fs.rmSync(nowhere, { recursive: true, force: true }));
    for (const args of [['status'], ['test'], ['deploy']]) {
      const lost = await project.database(args, { cwd: nowhere });
      expect(lost.code, args.join(' ')).toBe(3);
      expect(lost.stderr).toMatch(/cd into the project .*export LOCAL_DIR=\$PWD/);
    }
  });
});

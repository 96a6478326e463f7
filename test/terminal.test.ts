/**
 * What a person at a terminal sees, through a real one (tmux): progress lines of
 * concurrent steps never write over each other, and the pager shows only what does not
 * fit the screen and leaves it there after quitting (SPEC §11).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { MigratorWorkspace, connectTo, tableMigration, writeMigration } from './helpers/migrator.js';
import { BIN, makeTempDir } from './helpers/env.js';
import { startPane, tmuxAvailable, type TmuxPane } from './helpers/tmux.js';

const SIZE = { columns: 110, rows: 40 };
const panes: TmuxPane[] = [];

beforeAll(() => {
  if (!tmuxAvailable()) throw new Error('these tests need tmux (bash .ci/run installs it; apt-get install tmux)');
});

afterAll(() => {
  for (const pane of panes.splice(0)) pane.kill();
});

async function pane(env: Record<string, string | undefined>): Promise<TmuxPane> {
  // Colour on, as at a real terminal (capture-pane shows the text without it).
  const started = await startPane({ NO_COLOR: undefined, PATH: `${BIN}:${process.env.PATH}`, ...env }, SIZE);
  panes.push(started);
  return started;
}

/** The lines a command printed: after its command line, up to its `EXIT=` line. */
function outputOf(text: string, marker: string): { lines: string[]; exit: number } {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.includes(marker));
  const end = lines.findIndex((line, i) => i > start && /^EXIT=\d+$/.test(line));
  return { lines: lines.slice(start + 1, end), exit: Number(lines[end]?.slice('EXIT='.length)) };
}

const STEP_LINE = /^[✓✗] (?:db[12]: )?\S.*\S (?:\d+ ms|\d+\.\d\d s)$/;

describe('progress of concurrent steps (database diff builds db1 and db2 at once)', () => {
  let project: DiffProject;

  beforeAll(async () => {
    project = await makeDiffProject('shop', 2);
  });

  afterAll(async () => {
    await project?.remove();
  });

  it('ends every step on a line of its own and leaves no progress line behind', async () => {
    const terminal = await pane(project.env);
    terminal.run('database diff; echo "EXIT=$?"');
    const { lines, exit } = outputOf(await terminal.waitFor(/^EXIT=\d+$/m), 'database diff;');
    expect(exit, lines.join('\n')).toBe(0);
    const steps = lines.filter((line) => /[✓✗]/.test(line));
    for (const line of steps) expect(line).toMatch(STEP_LINE);
    for (const expected of [/^✓ db1: restore /, /^✓ db1: migrate up all /, /^✓ db2: create cluster /, /^✓ db2: hydrate /, /^✓ db2: migrator init /, /^✓ compare /]) {
      expect(steps.filter((line) => expected.test(line)), `${expected} in\n${lines.join('\n')}`).toHaveLength(1);
    }
    // Messages of either database are whole lines too, and nothing of a live line stays.
    for (const line of lines.filter((l) => /^db[12]:/.test(l))) expect(line).not.toMatch(/[✓✗…]/);
    expect(lines.join('\n')).not.toContain('…');
    // The report (stdout, short enough not to be paged) follows the progress, whole.
    const report = lines.indexOf('database diff: no differences');
    expect(report).toBeGreaterThan(lines.lastIndexOf(steps.at(-1) ?? ''));
    for (const line of lines.slice(report + 1)) expect(line).toMatch(/^ {2}\S/);
  });
});

describe('progress of a migration run (migrator migrate up all)', () => {
  let cluster: TestCluster;
  let work: MigratorWorkspace;

  beforeAll(async () => {
    cluster = await startTestCluster();
    work = await MigratorWorkspace.open(cluster, 'tty');
  });

  afterAll(async () => {
    await work?.close();
    await cluster?.stop();
  });

  it('shows the migration that runs on a live line, then each one on a line of its own with its duration', async () => {
    const db = await work.database();
    const dir = work.folder();
    tableMigration(dir, '20240101000000-quick', 'quick');
    // Waits for a lock the test holds: "long" for as long as the test wants, whatever the load.
    writeMigration(dir, '20240102000000-long', { 'up.sql': 'SELECT pg_advisory_xact_lock(4242) AS waited;\n', 'down.sql': 'SELECT 1;\n' });
    tableMigration(dir, '20240103000000-after', 'after');
    const holder = await connectTo(cluster, db.name);
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      const terminal = await pane({});
      terminal.run(`migrator -u '${db.url}' -d '${dir}' migrate up all; echo "EXIT=$?"`);
      const running = await terminal.waitFor(/^… apply 20240102000000-long \(2\/3\)$/m);
      expect(running).toMatch(/^✓ apply 20240101000000-quick \(1\/3\) \d+ ms$/m);
      await holder.query('SELECT pg_advisory_unlock(4242)');
      const { lines, exit } = outputOf(await terminal.waitFor(/^EXIT=\d+$/m), 'migrate up all;');
      expect(exit, lines.join('\n')).toBe(0);
      const steps = lines.filter((line) => /[✓✗]/.test(line));
      expect(steps).toHaveLength(3);
      for (const [i, name] of ['20240101000000-quick', '20240102000000-long', '20240103000000-after'].entries()) {
        expect(steps[i]).toMatch(new RegExp(`^✓ apply ${name} \\(${i + 1}/3\\) (?:\\d+ ms|\\d+\\.\\d\\d s)$`));
      }
      // The migration's own output is whole lines between them; no live line is left behind.
      expect(lines).toContain(' waited ');
      expect(lines.join('\n')).not.toContain('…');
      expect(lines.at(-1)).toMatch(/^applied 3 migrations in /);
    } finally {
      await holder.end().catch(() => undefined);
    }
  });
});

describe('the pager (PAGER and LESS unset)', () => {
  let dir: string;
  let env: Record<string, string | undefined>;

  beforeAll(() => {
    dir = makeTempDir('db-tool-pager-');
    const logDir = path.join(dir, 'pg', 'data', 'log');
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(path.join(logDir, 'short.log'), Array.from({ length: 5 }, (_, i) => `short line ${i + 1}\n`).join(''));
    fs.writeFileSync(path.join(logDir, 'big.log'), Array.from({ length: 300 }, (_, i) => `big line ${i + 1}\n`).join(''));
    env = { PG_WORKING_DIR: path.join(dir, 'pg'), PAGER: undefined, LESS: undefined };
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints output that fits the screen without paging', async () => {
    const terminal = await pane(env);
    terminal.run('database log short; echo "EXIT=$?"');
    const { lines, exit } = outputOf(await terminal.waitFor(/^EXIT=\d+$/m), 'database log short;');
    expect(exit).toBe(0);
    expect(lines).toEqual(['short line 1', 'short line 2', 'short line 3', 'short line 4', 'short line 5']);
  });

  it('pages output longer than the screen, and leaves it on screen after q', async () => {
    const terminal = await pane(env);
    terminal.run('database log big; echo "EXIT=$?"');
    await terminal.waitFor(/^big line 39$/m);
    expect(terminal.capture()).not.toMatch(/^EXIT=\d+$/m); // less waits for us
    terminal.keys('q');
    const { lines, exit } = outputOf(await terminal.waitFor(/^EXIT=\d+$/m), 'database log big;');
    expect(exit).toBe(0);
    // No alternate screen: the page read stays in the terminal.
    expect(lines.slice(0, 39)).toEqual(Array.from({ length: 39 }, (_, i) => `big line ${i + 1}`));
  });

  it('never pages when stdout is not the terminal', async () => {
    const terminal = await pane(env);
    terminal.run('database log big | tail -n 2; echo "EXIT=$?"');
    const { lines, exit } = outputOf(await terminal.waitFor(/^EXIT=\d+$/m), 'database log big |');
    expect(exit).toBe(0);
    expect(lines).toEqual(['big line 299', 'big line 300']);
  });
});

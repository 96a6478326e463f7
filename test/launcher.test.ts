/**
 * The one launcher, bin/db-tool-launcher (SPEC §14): it runs the program named by the
 * link it was called through (npm's node_modules/.bin, a link of the user's, a linked
 * bin/ folder), or by its first argument; it keeps Node off our --env-file
 * (nodejs/node#54232) and hands NODE_EXTRA_CA_CERTS over. A stand-in `node` (a sh
 * script printing what it was given) shows exactly how Node is started.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from './helpers/cli.js';
import { BIN, ROOT, makeTempDir } from './helpers/env.js';

const LAUNCHER = path.join(BIN, 'db-tool-launcher');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;
/** A `node` that prints its arguments, one a line, and the two CA variables. */
let fakeNode: string;

beforeAll(() => {
  dir = makeTempDir('db-tool-launcher-');
  fakeNode = path.join(dir, 'fake-node');
  fs.writeFileSync(
    fakeNode,
    '#!/bin/sh\nprintf "NODE_EXTRA_CA_CERTS=[%s] DB_TOOL_EXTRA_CA_CERTS=[%s]\\n" "${NODE_EXTRA_CA_CERTS-unset}" "${DB_TOOL_EXTRA_CA_CERTS-unset}"\nfor arg; do printf "%s\\n" "$arg"; done\n',
    { mode: 0o755 },
  );
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `link` → `target` (relative as written), its folder made. */
function link(target: string, at: string): string {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
  return at;
}

describe('the launcher', () => {
  it('runs the program named by an npm-style link chain into a linked package', async () => {
    // node_modules/.bin/NAME → ../@hectic/db-tool/bin/db-tool-launcher, the package itself a link (npm link).
    const modules = path.join(dir, 'npm', 'node_modules');
    link(ROOT, path.join(modules, '@hectic', 'db-tool'));
    for (const name of ['database', 'migrator', 'postgres-cleanup']) {
      link('../@hectic/db-tool/bin/db-tool-launcher', path.join(modules, '.bin', name));
    }
    const database = await runProgram(path.join(modules, '.bin', 'database'), ['--version']);
    expect(database).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const migrator = await runProgram(path.join(modules, '.bin', 'migrator'), ['--help']);
    expect(migrator.code).toBe(0);
    expect(migrator.stdout).toMatch(/^Usage: migrator /);
    const cleanup = await runProgram(path.join(modules, '.bin', 'postgres-cleanup'), ['--help']);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toMatch(/^Usage: postgres-cleanup /);
  });

  it("takes the program's name from the links on the way, not the name it was called by", async () => {
    const alias = link(path.join(BIN, 'migrator'), path.join(dir, 'alias', 'm'));
    const result = await runProgram(alias, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: migrator /);
    const viaBinLink = link(BIN, path.join(dir, 'linked-bin'));
    expect(await runProgram(path.join(viaBinLink, 'database'), ['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('called by its own name, runs the program its first argument names; without one, says so in one line', async () => {
    expect(await runProgram(LAUNCHER, ['database', '--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const none = await runProgram(LAUNCHER, ['--version']);
    expect(none.code).toBe(127);
    expect(none.stdout).toBe('');
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain('name the program to run (database, migrator, postgres-cleanup or postgres-init)');
  });

  it('gives Node our arguments after `--`, so an --env-file after the script name is ours', async () => {
    const result = await runProgram(path.join(BIN, 'database'), ['--env-file', 'x.env', 'status', '--', 'y'], { env: { DB_TOOL_NODE: fakeNode } });
    expect(result.code).toBe(0);
    const [, script, ...args] = result.stdout.trim().split('\n');
    expect(script).toBe(path.join(fs.realpathSync(ROOT), 'dist', 'cli', 'database.js'));
    expect(args).toEqual(['--', '--env-file', 'x.env', 'status', '--', 'y']);
    // And the real Node leaves it to us: a missing file is our exit 3, not Node's exit 9.
    const real = await runProgram(path.join(BIN, 'migrator'), ['--env-file', path.join(dir, 'missing.env'), 'list']);
    expect(real.code).toBe(3);
    expect(real.stderr).toBe(`migrator: --env-file ${path.join(dir, 'missing.env')}: cannot read it (no such file or folder)\n`);
  });

  it('starts Node without NODE_EXTRA_CA_CERTS and hands it over as DB_TOOL_EXTRA_CA_CERTS', async () => {
    const set = await runProgram(path.join(BIN, 'postgres-cleanup'), [], { env: { DB_TOOL_NODE: fakeNode, NODE_EXTRA_CA_CERTS: '/ca.pem' } });
    expect(set.stdout.split('\n')[0]).toBe('NODE_EXTRA_CA_CERTS=[] DB_TOOL_EXTRA_CA_CERTS=[/ca.pem]');
    const unset = await runProgram(path.join(BIN, 'postgres-cleanup'), [], { env: { DB_TOOL_NODE: fakeNode } });
    expect(unset.stdout.split('\n')[0]).toBe('NODE_EXTRA_CA_CERTS=[] DB_TOOL_EXTRA_CA_CERTS=[]');
  });

  it('postgres-init, executed and sourced, runs its program through the launcher', async () => {
    const init = path.join(BIN, 'postgres-init');
    const env = { DB_TOOL_NODE: fakeNode, NODE_EXTRA_CA_CERTS: '/ca.pem' };
    const executed = await runProgram(init, ['--env-file', 'a.env', '--env'], { env });
    expect(executed.stdout.trim().split('\n')).toEqual([
      'NODE_EXTRA_CA_CERTS=[] DB_TOOL_EXTRA_CA_CERTS=[/ca.pem]',
      path.join(fs.realpathSync(ROOT), 'dist', 'cli', 'postgres-init.js'),
      '--', '--env-file', 'a.env', '--env',
    ]);
    // Sourced, it evaluates what the program prints: a stand-in printing an export line.
    const exporter = path.join(dir, 'exporting-node');
    fs.writeFileSync(exporter, `#!/bin/sh\nprintf "export SEEN='%s'\\n" "$*"\n`, { mode: 0o755 });
    const sourced = await runProgram('sh', ['-c', `. "${init}"; echo "status=$? seen=$SEEN ca=\${NODE_EXTRA_CA_CERTS-unset}"`], {
      env: { DB_TOOL_NODE: exporter, NODE_EXTRA_CA_CERTS: '/ca.pem' },
    });
    expect(sourced.stdout.trim()).toBe(`status=0 seen=${path.join(fs.realpathSync(ROOT), 'dist', 'cli', 'postgres-init.js')} -- --env ca=/ca.pem`);
  });

  it('without node, says so in one line (exit 127); sourced, postgres-init returns instead of exiting the shell', async () => {
    const env = { DB_TOOL_NODE: path.join(dir, 'no-such-node') };
    const database = await runProgram(path.join(BIN, 'database'), ['--version'], { env });
    expect(database.code).toBe(127);
    expect(database.stderr).toBe('database: node not found (install Node.js >= 20, or set DB_TOOL_NODE)\n');
    const sourced = await runProgram('sh', ['-c', `. "${path.join(BIN, 'postgres-init')}"; echo "returned $?"`], { env });
    expect(sourced.stdout).toBe('returned 127\n');
    expect(sourced.stderr).toBe('postgres-init: node not found (install Node.js >= 20, or set DB_TOOL_NODE)\n');
  });

  it("the git hook of `database branch install-hook` runs database through the launcher, which every install has", async () => {
    const repo = path.join(dir, 'repo');
    fs.mkdirSync(repo);
    expect((await runProgram('git', ['init', '-q', repo])).code).toBe(0);
    const installed = await runProgram(path.join(BIN, 'database'), ['branch', 'install-hook', '--json'], { cwd: repo, env: { LOCAL_DIR: repo } });
    expect(installed.code, installed.stderr).toBe(0);
    const hook = fs.readFileSync((JSON.parse(installed.stdout) as { hook: string }).hook, 'utf8');
    const launcher = /^ {2}launcher='?([^'\n]+?)'?$/m.exec(hook)?.[1];
    expect(launcher).toBe(path.join(fs.realpathSync(ROOT), 'bin', 'db-tool-launcher'));
    expect(fs.lstatSync(launcher!).isFile()).toBe(true);
    expect(hook).toContain('"$@" branch switch --hook');
  });

  it("npm's bin entries are files npm packs (it leaves links out), and executable", () => {
    const { bin } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(Object.keys(bin).sort()).toEqual(['database', 'migrator', 'postgres-cleanup', 'postgres-init']);
    for (const file of Object.values(bin)) {
      const stat = fs.lstatSync(path.join(ROOT, file));
      expect(stat.isFile(), file).toBe(true);
      expect(stat.mode & 0o111, file).toBe(0o111);
    }
  });
});

/**
 * `. postgres-init` from sh, dash, bash and zsh: the exports land in the calling shell,
 * and a failure returns non-zero without ending that shell (SPEC §4).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin, runProgram } from './helpers/cli.js';
import { BIN, makeTempDir } from './helpers/env.js';

const SHELLS = ['sh', 'dash', 'bash', 'zsh'] as const;
const dirs: string[] = [];
const envs: Array<Record<string, string>> = [];

afterEach(async () => {
  for (const env of envs.splice(0)) await runBin('postgres-cleanup', [], { env });
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function project(): Record<string, string> {
  const dir = makeTempDir();
  dirs.push(dir);
  const env = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
  envs.push(env);
  return env;
}

describe.each(SHELLS)('sourced from %s', (shell) => {
  it('exports the connection variables into the calling shell', async () => {
    const env = project();
    // Sourced by path, the way a shellHook does it, then used by psql in the same shell.
    const script = `. "${path.join(BIN, 'postgres-init')}" || exit 9
echo "host=$POSTGRESQL_HOST port=$POSTGRESQL_PORT db=$POSTGRESQL_DATABASE user=$POSTGRESQL_USER"
psql -X -At "$PGURL" -c 'select 40 + 2'`;
    const result = await runProgram(shell, ['-c', script], { env });
    expect(result.code, result.stderr).toBe(0);
    const [vars, answer] = result.stdout.trim().split('\n');
    expect(vars).toBe(`host=${env.PG_WORKING_DIR}/sock port=5432 db=testdb user=${vars!.replace(/.*user=/, '')}`);
    expect(answer).toBe('42');
  });

  it('returns non-zero on failure and leaves the calling shell alive', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    const script = `. "${path.join(BIN, 'postgres-init')}"
echo "status=$?"
echo "still alive; PGURL=\${PGURL-unset}"`;
    const result = await runProgram(shell, ['-c', script], { env: { PG_WORKING_DIR: file } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('status=1');
    expect(result.stdout).toContain('still alive; PGURL=unset');
    expect(result.stderr).toContain('working dir is not a folder');
  });

  it('is found through PATH when sourced by name', async () => {
    const env = project();
    const script = `. postgres-init && psql -X -At "$PGURL" -c 'select current_database()'`;
    const result = await runProgram(shell, ['-c', script], { env: { ...env, PATH: `${BIN}:${process.env.PATH}` } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('testdb');
  });
});

describe('postgres-init executed', () => {
  it('prints export lines with --env that eval into a shell', async () => {
    const env = project();
    const script = `eval "$("${path.join(BIN, 'postgres-init')}" --env)" && psql -X -At "$PGURL" -c 'select 1'`;
    const result = await runProgram('bash', ['-c', script], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('1');
  });

  it("prints exactly five `export NAME='value'` lines with --env", async () => {
    const env = project();
    const result = await runBin('postgres-init', ['--env'], { env });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.split('=')[0])).toEqual([
      'export POSTGRESQL_HOST', 'export POSTGRESQL_PORT', 'export POSTGRESQL_USER', 'export POSTGRESQL_DATABASE', 'export PGURL',
    ]);
    for (const line of lines) expect(line).toMatch(/^export [A-Z_]+='[^']*'$/);
  });

  it('prints nothing on stdout without --env', async () => {
    const env = project();
    const result = await runBin('postgres-init', [], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('PostgreSQL ready');
  });
});

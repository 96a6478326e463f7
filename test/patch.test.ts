/**
 * `database patch` against a real PostgreSQL: creating and applying test-data.sql,
 * PROFILE_DIR, PATCH_LOG routing, --edit through $EDITOR, SQL errors, --inherits and the
 * remote-target refusal. The target comes from $PGURL (the usual dev-shell setup).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATA_HEADER } from '../src/deploy/patch.js';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir } from './helpers/env.js';
import { copyProject, createDatabase, databaseOf, queryValue, type Project } from './helpers/project.js';

let cluster: TestCluster;
let project: Project;
let scratch: string;
/** A hydrated database that each test copies (CREATE DATABASE … TEMPLATE). */
let template: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  project = copyProject('deploy-project');
  scratch = makeTempDir('db-tool-patch-');
  const url = await createDatabase(cluster.url, 'patch_template');
  const hydrated = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: project.dir } });
  if (hydrated.code !== 0) throw new Error(`hydrate failed: ${hydrated.stderr}`);
  template = databaseOf(url);
});

afterAll(async () => {
  await cluster?.stop();
  project?.remove();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A fresh profile folder (PROFILE_DIR) with the given test-data.sql, if any. */
function profile(name: string, testData?: string): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  if (testData !== undefined) fs.writeFileSync(path.join(dir, 'test-data.sql'), testData);
  return dir;
}

async function patch(args: string[], env: Record<string, string | undefined>) {
  const url = await createDatabase(cluster.url, 'patch', template);
  const result = await runBin('database', ['patch', ...args], { env: { LOCAL_DIR: project.dir, PGURL: url, ...env } });
  return { url, ...result };
}

const items = (url: string): Promise<string[] | undefined> =>
  queryValue<string[]>(url, 'SELECT coalesce(array_agg(name ORDER BY id), ARRAY[]::text[]) FROM app.item');

describe('database patch', () => {
  it('applies $PROFILE_DIR/test-data.sql to $PGURL; psql output goes to stdout', async () => {
    const result = await patch([], {});
    expect(result.code, result.stderr).toBe(0);
    expect(await items(result.url)).toEqual(['from-test-data']);
    expect(result.stdout).toContain('patch-output-marker');
  });

  it('creates a missing test-data.sql with a comment header, then applies it', async () => {
    const dir = profile('created');
    const result = await patch([], { PROFILE_DIR: dir });
    expect(result.code, result.stderr).toBe(0);
    const file = path.join(dir, 'test-data.sql');
    expect(fs.readFileSync(file, 'utf8')).toBe(TEST_DATA_HEADER);
    expect(result.stderr).toContain(`created ${file}`);
    expect(await items(result.url)).toEqual([]);
  });

  it('PATCH_LOG, else $PG_LOG_PATH/patch.stdout.log, receives the psql output', async () => {
    const logFile = path.join(scratch, 'patch.log');
    const explicit = await patch([], { PATCH_LOG: logFile });
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.stdout).not.toContain('patch-output-marker');
    expect(fs.readFileSync(logFile, 'utf8')).toContain('patch-output-marker');

    const logPath = path.join(scratch, 'pglogs');
    const fallback = await patch([], { PG_LOG_PATH: logPath });
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stdout).not.toContain('patch-output-marker');
    expect(fs.readFileSync(path.join(logPath, 'patch.stdout.log'), 'utf8')).toContain('patch-output-marker');
  });

  it('--edit runs $EDITOR on the file first, then applies what it wrote', async () => {
    const dir = profile('edit', "INSERT INTO app.item (name) VALUES ('before-edit');\n");
    const editor = path.join(scratch, 'editor.sh');
    fs.writeFileSync(editor, `#!/bin/sh\nprintf "%s\\n" "INSERT INTO app.item (name) VALUES ('from-editor');" >> "$1"\n`, { mode: 0o755 });
    const result = await patch(['--edit'], { PROFILE_DIR: dir, EDITOR: editor });
    expect(result.code, result.stderr).toBe(0);
    expect(await items(result.url)).toEqual(['before-edit', 'from-editor']);
    expect(fs.readFileSync(path.join(dir, 'test-data.sql'), 'utf8')).toContain('from-editor');
  });

  it('an editor that fails → exit 1 and nothing is applied', async () => {
    const dir = profile('edit-fails', "INSERT INTO app.item (name) VALUES ('never');\n");
    const result = await patch(['-e'], { PROFILE_DIR: dir, EDITOR: 'false' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('editor');
    expect(await items(result.url)).toEqual([]);
  });

  it('an SQL error → exit 1 naming test-data.sql and the line', async () => {
    const dir = profile('broken', "INSERT INTO app.item (name) VALUES ('ok');\nINSERT INTO app.item (nope) VALUES (1);\n");
    const result = await patch([], { PROFILE_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, 'test-data.sql')}:2`);
    expect(result.stderr).toContain('nope');
  });

  it('-i/--inherits checks the target first: a missing table → exit 5, nothing applied', async () => {
    const ok = await patch(['-i', 'app.item'], {});
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await patch(['-i', 'app.missing'], {});
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('app.missing');
    expect(await items(missing.url)).toEqual([]);
  });

  it('refuses a non-local URL before connecting', async () => {
    const result = await runBin('database', ['patch'], { env: { LOCAL_DIR: project.dir, PGURL: 'postgresql://u@db.example.com/x' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--allow-remote');
    expect(result.stderr).not.toContain('cannot connect');
  });
});

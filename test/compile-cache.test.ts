/**
 * Node's module compile cache (src/cli/compile-cache.ts): on Node ≥ 22.1 a program keeps
 * the code it compiled in `$XDG_CACHE_HOME/db-tool/node-compile-cache`, a folder only its
 * account can change; on older Node nothing is made. A cache folder others may write in
 * is never used.
 */
import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';

const NODE_HAS_COMPILE_CACHE = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function cacheHome(): string {
  const dir = makeTempDir('db-tool-compile-cache-');
  made.push(dir);
  return dir;
}

/** The files below `dir`, none when it does not exist. */
function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('the compile cache', () => {
  it(`is ${NODE_HAS_COMPILE_CACHE ? 'kept in a private folder of the tool cache' : 'not made'} on Node ${process.versions.node}, and the next run uses it`, async () => {
    const home = cacheHome();
    const folder = path.join(home, 'db-tool', 'node-compile-cache');
    for (let run = 0; run < 2; run += 1) {
      const result = await runBin('database', ['--help'], { env: { XDG_CACHE_HOME: home } });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: database');
    }
    if (NODE_HAS_COMPILE_CACHE) {
      expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
      expect(filesBelow(folder).length).toBeGreaterThan(10);
    } else {
      expect(fs.existsSync(folder)).toBe(false);
    }
  });

  it('is never kept where others may write', async () => {
    const home = cacheHome();
    fs.mkdirSync(path.join(home, 'db-tool'), { mode: 0o777 });
    fs.chmodSync(path.join(home, 'db-tool'), 0o777);
    const result = await runBin('database', ['--help'], { env: { XDG_CACHE_HOME: home } });
    expect(result.code).toBe(0);
    expect(filesBelow(path.join(home, 'db-tool', 'node-compile-cache'))).toEqual([]);
  });
});

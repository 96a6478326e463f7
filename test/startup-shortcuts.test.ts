/**
 * The start-up shortcuts of src/base/startup-shortcuts.ts, in the compiled program: Node's
 * compile cache where Node has one (≥ 22.1), nothing where it has none (Node 20). The
 * other shortcuts have their own tests: the navigator stand-in in pg-driver.test.ts, the
 * NODE_EXTRA_CA_CERTS handover in launcher.test.ts, extra-ca.test.ts and the unit tests.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, makeTempDir } from './helpers/env.js';

let dir: string;

beforeAll(() => {
  dir = makeTempDir('db-tool-compile-cache-');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('start-up shortcuts', () => {
  it("turn on Node's compile cache for the modules loaded after them, where Node has one", () => {
    // Node's default folder, below the temp folder: not NODE_COMPILE_CACHE, which would
    // turn the cache on by itself.
    const cacheDir = path.join(dir, 'node-compile-cache');
    const script = `
      require(${JSON.stringify(path.join(ROOT, 'dist', 'base', 'startup-shortcuts.js'))});
      require(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'database-program.js'))});
      console.log(require('node:module').getCompileCacheDir?.() ?? 'none');`;
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: dir } });
    const nodeHasCompileCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    if (nodeHasCompileCache) {
      // A folder per Node build, below Node's default one.
      const used = output.trim();
      expect(path.dirname(used)).toBe(cacheDir);
      // Node writes the cache as the process ends: the program's modules are in it.
      expect(fs.readdirSync(used).length).toBeGreaterThan(0);
    } else {
      expect(output.trim()).toBe('none');
      expect(fs.existsSync(cacheDir)).toBe(false);
    }
  });
});

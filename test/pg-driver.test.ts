/**
 * Loading the pg driver costs what it must and leaves nothing behind: pg's check for
 * Cloudflare Workers would otherwise load Node 20's whole fetch implementation (undici)
 * on the way to every first query (src/pg/db.ts).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/env.js';

describe('loading the pg driver', () => {
  it('does not load Node\'s fetch, and leaves globalThis.navigator as it was', () => {
    const script = `
      const before = typeof globalThis.navigator;
      const { loadDriver } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'pg', 'db.js'))});
      const pg = await loadDriver();
      console.log(JSON.stringify({
        client: typeof pg.Client,
        navigatorKept: typeof globalThis.navigator === before,
        fetchLoaded: process.moduleLoadList.some((name) => name.includes('undici')),
      }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ client: 'function', navigatorKept: true, fetchLoaded: false });
  });
});

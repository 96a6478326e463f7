/** Names and labels of branch databases (src/branch/branch-store.ts), and gc's ages. */
import { describe, expect, it } from 'vitest';
import { labelText, parseLabel, storedName } from '../src/branch/branch-store.js';
import { parseAge } from '../src/branch/branch-housekeeping.js';

describe('branch databases', () => {
  it('are PG_DATABASE@BRANCH, shortened with a hash to fit 63 bytes, distinct per branch', () => {
    expect(storedName('testdb', 'feature/x')).toBe('testdb@feature/x');
    const long = 'feature/' + 'ä'.repeat(40);
    const a = storedName('testdb', `${long}-a`);
    const b = storedName('testdb', `${long}-b`);
    for (const name of [a, b]) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
      expect(name.startsWith('testdb@feature/')).toBe(true);
      expect(name).toMatch(/~[0-9a-f]{8}$/);
    }
    expect(a).not.toBe(b);
    expect(storedName('testdb', `${long}-a`)).toBe(a);
  });

  it('carry a label that reads back, and ignore comments that are not ours', () => {
    const label = { branch: 'main', parent: undefined, created: '2026-01-01T00:00:00.000Z', lastUsed: '2026-01-02T00:00:00.000Z', migrated: false };
    expect(parseLabel(labelText(label))).toEqual(label);
    expect(parseLabel('the production copy')).toBeUndefined();
    expect(parseLabel('db-tool branch {not json')).toBeUndefined();
    expect(parseLabel(null)).toBeUndefined();
  });

  it('gc ages take a number and a unit', () => {
    expect(parseAge('7d')).toBe(7 * 86_400_000);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('2w')).toBe(14 * 86_400_000);
    expect(() => parseAge('7 days')).toThrow(/--older-than/);
  });
});

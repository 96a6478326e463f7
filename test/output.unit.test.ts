/** When the pager is worth starting: only for text taller than the terminal. */
import { describe, expect, it } from 'vitest';
import { fitsScreen } from '../src/cli/output.js';

describe('fitsScreen', () => {
  const size = { rows: 5, columns: 10 };

  it('counts lines, leaving a row for the prompt', () => {
    expect(fitsScreen('1\n2\n3\n4\n', size)).toBe(true);
    expect(fitsScreen('1\n2\n3\n4\n5\n', size)).toBe(false);
  });

  it('counts a wrapped line once per row it takes, ignoring colour codes', () => {
    expect(fitsScreen(`${'x'.repeat(25)}\n1\n`, size)).toBe(true);
    expect(fitsScreen(`${'x'.repeat(25)}\n1\n2\n`, size)).toBe(false);
    expect(fitsScreen(`\u001b[31m${'x'.repeat(10)}\u001b[0m\n1\n2\n3\n`, size)).toBe(true);
  });
});

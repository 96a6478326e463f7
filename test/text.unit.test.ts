import { describe, expect, it } from 'vitest';
import { countNewlines } from '../src/base/text.js';

describe('countNewlines', () => {
  it('counts every newline, wherever it stands', () => {
    expect(countNewlines('')).toBe(0);
    expect(countNewlines('one line')).toBe(0);
    expect(countNewlines('\n')).toBe(1);
    expect(countNewlines('a\nb\n')).toBe(2);
    expect(countNewlines('\n\nx\r\ny')).toBe(3);
    expect(countNewlines('a\n'.repeat(10_000))).toBe(10_000);
  });
});

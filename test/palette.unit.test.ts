import { describe, expect, it } from 'vitest';
import { createPalette } from '../src/base/palette.js';

describe('palette', () => {
  it('wraps text in the ANSI codes of its style', () => {
    const color = createPalette(true);
    expect(color.red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(color.gray('x')).toBe('\u001b[90mx\u001b[39m');
    expect(color.bold(color.yellow('x'))).toBe('\u001b[1m\u001b[33mx\u001b[39m\u001b[22m');
  });

  it('keeps the outer colour after a nested one ends', () => {
    const color = createPalette(true);
    expect(color.red(`a ${color.gray('b')} c`)).toBe('\u001b[31ma \u001b[90mb\u001b[39m\u001b[31m c\u001b[39m');
  });

  it('leaves text alone when colour is off', () => {
    const color = createPalette(false);
    expect(color.enabled).toBe(false);
    expect(color.bold(color.red('x'))).toBe('x');
  });
});

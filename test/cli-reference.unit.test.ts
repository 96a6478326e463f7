import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderCliReference, REFERENCE_END, REFERENCE_START, withCliReference } from '../src/cli/cli-reference.js';

const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README CLI reference', () => {
  it('is what `npm run docs` generates from the programs (run it after changing a command)', () => {
    expect(withCliReference(readme)).toBe(readme);
  });

  it('covers every command of the four programs, subcommands included', () => {
    const reference = renderCliReference();
    for (const heading of ['`postgres-init`', '`postgres-cleanup`', '`database deploy`', '`database diff log`', '`migrator migrate up`', '`migrator create`']) {
      expect(reference).toContain(`#### ${heading}`);
    }
    expect(reference.startsWith(REFERENCE_START)).toBe(true);
    expect(reference.endsWith(REFERENCE_END)).toBe(true);
    expect(reference).not.toContain(String.fromCharCode(27));
  });
});

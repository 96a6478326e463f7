/** The TypeScript dotenv parser (src/base/dotenv.ts) and `--env-file` argument handling. */
import { describe, expect, it } from 'vitest';
import { dotenvValues, parseDotenv } from '../src/base/dotenv.js';
import { takeEnvFiles } from '../src/cli/run.js';
import { MissingInputError } from '../src/base/errors.js';

function values(text: string): Record<string, string> {
  const parsed = parseDotenv(text);
  if (!parsed.ok) throw new Error(`line ${parsed.line}: ${parsed.reason}`);
  return Object.fromEntries(dotenvValues(parsed.entries));
}

describe('parseDotenv', () => {
  it('skips blank and # lines, drops `export `, splits at the first =, trims, strips one pair of matching quotes', () => {
    expect(
      values(
        [
          '# a comment',
          '',
          '   ',
          'export A=1',
          '  B  =  two words  ',
          'C="quoted # not a comment"',
          "D='single'",
          'E="mismatched\'',
          'F=a=b=c',
          'G=""',
          'H=',
          'I="\'inner\'"',
          '\texport\tJ=tab',
        ].join('\n'),
      ),
    ).toEqual({
      A: '1',
      B: 'two words',
      C: 'quoted # not a comment',
      D: 'single',
      E: '"mismatched\'',
      F: 'a=b=c',
      G: '',
      H: '',
      I: "'inner'",
      J: 'tab',
    });
  });

  it('accepts CRLF line endings and lets a later duplicate win', () => {
    expect(values('A=1\r\nB="x"\r\nA=2\r\n')).toEqual({ A: '2', B: 'x' });
  });

  it('reports the first bad line (1-based) without echoing it', () => {
    expect(parseDotenv('A=1\n\nsecret-without-equals\nB=2')).toEqual({ ok: false, line: 3, reason: 'expected KEY=VALUE' });
    const emptyKey = parseDotenv('A=1\n  = value');
    expect(emptyKey).toEqual({ ok: false, line: 2, reason: 'empty key before "="' });
    expect(JSON.stringify(parseDotenv('password hunter2'))).not.toContain('hunter2');
  });

  it('keeps line numbers of entries', () => {
    const parsed = parseDotenv('# x\nA=1\n\nB=2');
    expect(parsed.ok && parsed.entries.map((entry) => [entry.key, entry.line])).toEqual([
      ['A', 2],
      ['B', 4],
    ]);
  });
});

describe('takeEnvFiles', () => {
  it('takes --env-file PATH and --env-file=PATH anywhere before --, in order', () => {
    expect(takeEnvFiles(['--env-file', 'a.env', 'deploy', '--env-file=b.env', '-c'])).toEqual({
      envFiles: ['a.env', 'b.env'],
      args: ['deploy', '-c'],
    });
    expect(takeEnvFiles(['migrator', '--', '--env-file', 'x'])).toEqual({ envFiles: [], args: ['migrator', '--', '--env-file', 'x'] });
  });

  it('refuses --env-file without a path (exit 3)', () => {
    expect(() => takeEnvFiles(['status', '--env-file'])).toThrow(MissingInputError);
    expect(() => takeEnvFiles(['--env-file=', 'status'])).toThrow(MissingInputError);
  });
});

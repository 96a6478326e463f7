/** JUnit XML of `database test --junit`, read back by an independent parser (xmldom). */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { SqlFailedError } from '../src/base/errors.js';
import { junitXml } from '../src/sqltest/junit.js';
import { parseTap } from '../src/sqltest/tap.js';
import { totalsOf, type TestFileResult, type TestRunResult } from '../src/sqltest/test-runner.js';

function fileResult(file: string, output: string, error?: SqlFailedError): TestFileResult {
  const tap = parseTap(output);
  return { file, output, notices: '', tap, error, ok: !error && tap.ok, startedAt: new Date('2024-05-06T07:08:09.123Z'), durationMs: 1500 };
}

function run(files: TestFileResult[]): TestRunResult {
  const totals = totalsOf(files);
  return { files, isolation: { kind: 'copies', jobs: 2, ram: true }, totals, durationMs: 2500, ok: totals.ok };
}

function parse(xml: string): Element {
  const problems: string[] = [];
  const document = new DOMParser({ onError: (level, message) => problems.push(`${level}: ${message}`) }).parseFromString(xml, 'text/xml');
  expect(problems).toEqual([]);
  return document.documentElement as unknown as Element;
}

function all(element: Element, name: string): Element[] {
  return Array.from(element.getElementsByTagName(name) as unknown as ArrayLike<Element>);
}

describe('junitXml', () => {
  it('escapes markup and drops what XML cannot hold (control characters, colour codes)', () => {
    const output = '1..1\nnot ok 1 - a <b> & "c" \x1b[31mred\x1b[0m\x01\n# have: </failure>\n';
    const xml = junitXml(run([fileResult('/p/db/test/x&y.sql', output)]), () => 'db/test/x&y.sql');
    expect([...xml].filter((char) => char < ' ' && !'\t\n\r'.includes(char))).toEqual([]);
    const root = parse(xml);
    const failure = all(root, 'failure')[0] as Element;
    expect(failure.getAttribute('message')).toBe('not ok 1 - a <b> & "c" red');
    expect(failure.textContent).toBe('# have: </failure>');
    expect(all(root, 'testsuite')[0]?.getAttribute('name')).toBe('db/test/x&y.sql');
    expect(all(root, 'testsuite')[0]?.getAttribute('timestamp')).toBe('2024-05-06T07:08:09');
    expect(all(root, 'testsuite')[0]?.getAttribute('time')).toBe('1.500');
  });

  it("puts a failing xUnit function's subtest in its failure, and an SQL error in a (file) testcase", () => {
    const xunit = '    # Subtest: app.test_a()\n    not ok 1 - wrong\n    # have: 1\n    1..1\nnot ok 1 - app.test_a\n1..1\n';
    const broken = fileResult('/p/b.sql', 'ok 1 - before\n', new SqlFailedError('b.sql:2: relation "x" does not exist', '  2 | SELECT * FROM x;'));
    const root = parse(junitXml(run([fileResult('/p/a.sql', xunit), broken]), (file) => file.slice(3)));
    expect(all(root, 'failure')[0]?.textContent).toBe('# Subtest: app.test_a()\nnot ok 1 - wrong\n# have: 1\n1..1');
    const error = all(root, 'error')[0] as Element;
    expect((error.parentNode as Element).getAttribute('name')).toBe('(file)');
    expect(error.getAttribute('message')).toBe('b.sql:2: relation "x" does not exist');
    expect(error.textContent).toBe('  2 | SELECT * FROM x;');
    expect([root.getAttribute('tests'), root.getAttribute('failures'), root.getAttribute('errors')]).toEqual(['3', '1', '1']);
  });
});

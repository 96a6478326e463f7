/**
 * JUnit XML of a test run (`database test --junit FILE`), in the shape GitLab's and
 * GitHub's test reporters read: one `<testsuite>` per file, one `<testcase>` per TAP
 * test point, `<failure>` with the test's diagnostics (pgTAP's have/want, YAML block,
 * subtest), `<skipped>` for SKIP and for TODO tests that fail. What fails a file
 * outside its test points (an SQL error, a bad plan, a bail out) is one more testcase,
 * named `(file)`, with an `<error>`. Pure: returns the document.
 */
import type { TapTest } from './tap.js';
import type { TestFileResult, TestRunResult } from './test-runner.js';

/** A terminal colour code (ESC [ … m): meaningless in a report. */
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Characters XML 1.0 cannot hold (control characters, ANSI escapes) are dropped. */
function xmlText(text: string): string {
  return text
    .replace(ANSI_ESCAPE, '')
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${xmlAttr(String(value))}"`)
    .join('');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function testLine(test: TapTest): string {
  return `${test.ok ? 'ok' : 'not ok'} ${test.number}${test.description ? ` - ${test.description}` : ''}`;
}

function testName(test: TapTest): string {
  return `${test.number}${test.description ? ` - ${test.description}` : ''}`;
}

/** What explains a failing test: its diagnostics, then its subtest as printed. */
function failureBody(test: TapTest): string {
  const parts = [test.diagnostics.join('\n'), test.subtest?.text ?? ''].filter((part) => part !== '');
  return parts.join('\n');
}

function testcase(test: TapTest, suite: string): string {
  const head = `    <testcase${attrs({ name: testName(test), classname: suite, file: suite })}`;
  if (test.directive === 'skip') return `${head}>\n      <skipped${attrs({ message: test.reason || 'SKIP' })}/>\n    </testcase>`;
  if (test.directive === 'todo' && !test.ok) return `${head}>\n      <skipped${attrs({ message: `TODO${test.reason ? ` ${test.reason}` : ''}` })}/>\n    </testcase>`;
  if (!test.ok) return `${head}>\n      <failure${attrs({ message: testLine(test), type: 'not ok' })}>${xmlText(failureBody(test))}</failure>\n    </testcase>`;
  return `${head}/>`;
}

/** Why the file as a whole failed apart from its `not ok` tests, if it did. */
function fileError(result: TestFileResult): { message: string; details: string } | undefined {
  if (result.error) return { message: result.error.message, details: result.error.details ?? '' };
  if (result.tap.problems.length > 0) return { message: result.tap.problems.join('; '), details: '' };
  return undefined;
}

/** The name a file has in the report (a path relative to the project, usually). */
export type SuiteName = (file: string) => string;

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function testsuite(result: TestFileResult, suiteName: SuiteName): { xml: string; counts: Counts } {
  const suite = suiteName(result.file);
  const problem = fileError(result);
  const cases = result.tap.tests.map((test) => testcase(test, suite));
  if (problem) {
    cases.push(`    <testcase${attrs({ name: '(file)', classname: suite, file: suite })}>\n      <error${attrs({ message: problem.message, type: 'file' })}>${xmlText(problem.details)}</error>\n    </testcase>`);
  }
  const counts: Counts = {
    tests: cases.length,
    failures: result.tap.failed,
    errors: problem ? 1 : 0,
    skipped: result.tap.skipped + result.tap.tests.filter((test) => test.directive === 'todo' && !test.ok).length,
  };
  const head = `  <testsuite${attrs({
    name: suite,
    file: suite,
    ...counts,
    time: seconds(result.durationMs),
    timestamp: result.startedAt.toISOString().replace(/\.\d+Z$/, ''),
  })}>`;
  const out = result.output ? `    <system-out>${xmlText(result.output)}</system-out>` : '';
  const err = result.notices ? `    <system-err>${xmlText(result.notices)}</system-err>` : '';
  return { xml: [head, ...cases, out, err, '  </testsuite>'].filter((line) => line !== '').join('\n'), counts };
}

export function junitXml(run: TestRunResult, suiteName: SuiteName): string {
  const suites = run.files.map((result) => testsuite(result, suiteName));
  const total = (pick: (counts: Counts) => number): number => suites.reduce((sum, suite) => sum + pick(suite.counts), 0);
  const head = `<testsuites${attrs({
    name: 'database test',
    tests: total((c) => c.tests),
    failures: total((c) => c.failures),
    errors: total((c) => c.errors),
    skipped: total((c) => c.skipped),
    time: seconds(run.durationMs),
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites.map((suite) => suite.xml), '</testsuites>', ''].join('\n');
}

/**
 * Reading the TAP output of SQL tests (Test Anything Protocol 12, 13 and 14): which
 * tests passed, failed, were skipped or are still to do, and whether the stream as a
 * whole passes. Pure: no I/O.
 *
 * The verdict follows pg_prove (TAP::Harness), which is what pgTAP users expect: a
 * stream fails on a `not ok` without a TODO/SKIP directive, on a missing plan when tests
 * ran, on a plan that disagrees with the tests that ran, on more than one plan, on a
 * plan between tests, on test numbers out of sequence, and on `Bail out!`. On top of
 * that it reads TAP 13/14 the way TAP::Harness does not: subtests (4-space indented
 * blocks, which pgTAP's `runtests()` prints) are parsed, and a subtest that fails under
 * an `ok` test point fails the stream; a bail out inside a subtest bails out the stream;
 * YAML blocks and `#` diagnostics are kept with the test they follow; `pragma +strict`
 * makes any non-TAP line fail the stream.
 *
 * Why not the node-tap project's `tap-parser`: it passes streams pg_prove fails (test
 * numbers out of sequence, two plans, a test after a trailing plan — that one it does not
 * even count), keeps pgTAP's `#` diagnostics apart from the test they explain, and brings
 * four packages (a YAML parser among them) for blocks we only need to show, not read.
 */

export type TapDirective = 'todo' | 'skip';

export interface TapTest {
  ok: boolean;
  /** The test number as written, or the running count when the line has none. */
  number: number;
  description: string;
  directive: TapDirective | undefined;
  /** Text after the directive (`# SKIP no secrets loaded` → `no secrets loaded`). */
  reason: string;
  /** 1-based line of the stream the test was reported on. */
  line: number;
  /** The `#` lines and the YAML block that follow the test point (pgTAP's have/want). */
  diagnostics: string[];
  /** The subtest this test point closes (TAP 14; pgTAP's runtests() prints one per test function). */
  subtest: TapSubtest | undefined;
}

export interface TapSubtest {
  /** From `# Subtest: name`, if the stream gave one. */
  name: string | undefined;
  report: TapReport;
  /** The subtest's lines as printed (indentation removed). */
  text: string;
}

export interface TapPlan {
  count: number;
  /** `1..0 # SKIP reason`: the whole stream was skipped. */
  skipAll: string | undefined;
}

export interface TapReport {
  tests: TapTest[];
  plan: TapPlan | undefined;
  bailOut: string | undefined;
  /** Why the stream fails apart from `not ok` tests (plan mismatch, bail out…). */
  problems: string[];
  passed: number;
  /** `not ok` without a directive: these fail the run. */
  failed: number;
  skipped: number;
  todo: number;
  /** `ok … # TODO`: a test marked as not done yet that passes (pg_prove's "TODO passed"). */
  todoPassed: number;
  ok: boolean;
}

interface Line {
  text: string;
  /** 1-based line number in the whole stream. */
  number: number;
}

const TEST_LINE = /^(not )?ok(?=\s|$)\s*(\d+)?\s*(.*)$/;
const PLAN_LINE = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
const BAIL_OUT = /^Bail out!\s*(.*)$/;
const DIRECTIVE = /^(TODO|SKIP\S*)(?:\s+(.*))?$/i;
const VERSION_LINE = /^TAP version \d+$/i;
const PRAGMA_LINE = /^pragma ([+-])(\w+)$/;
const SUBTEST_HEADER = /^#\s*Subtest(?::\s*(.*))?$/;
const SUBTEST_INDENT = '    ';
const YAML_START = /^ {2}---\s*$/;
const YAML_END = /^ {2}\.\.\.\s*$/;

/** Splits `- description # DIRECTIVE reason` at the first unescaped `#`. */
function splitDirective(rest: string): { description: string; directive: TapDirective | undefined; reason: string } {
  let hash = -1;
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === '\\') i += 1;
    else if (rest[i] === '#') {
      hash = i;
      break;
    }
  }
  const text = hash < 0 ? rest : rest.slice(0, hash);
  const description = text.replace(/^-\s*/, '').replace(/\\#/g, '#').trim();
  if (hash < 0) return { description, directive: undefined, reason: '' };
  const match = DIRECTIVE.exec(rest.slice(hash + 1).trim());
  if (!match?.[1]) return { description, directive: undefined, reason: '' };
  return { description, directive: match[1].toUpperCase() === 'TODO' ? 'todo' : 'skip', reason: (match[2] ?? '').trim() };
}

/** Parses one TAP stream (the stdout of one test file). */
export function parseTap(output: string): TapReport {
  const lines = output.split('\n').map((text, index) => ({ text: text.replace(/\r$/, ''), number: index + 1 }));
  if (lines.length > 0 && lines[lines.length - 1]?.text === '') lines.pop();
  return parseLines(lines);
}

/** What the parser has seen so far at one level of nesting. */
interface Reading {
  tests: TapTest[];
  plans: { plan: TapPlan; testsBefore: number }[];
  bailOut: string | undefined;
  strict: boolean;
  nonTap: Line[];
  /** A subtest block waiting for the test point that closes it. */
  pendingSubtest: TapSubtest | undefined;
  pendingName: string | undefined;
  /** The test point the next `#` lines and YAML block belong to. */
  lastTest: TapTest | undefined;
}

function parseLines(lines: readonly Line[]): TapReport {
  const reading: Reading = {
    tests: [], plans: [], bailOut: undefined, strict: false, nonTap: [],
    pendingSubtest: undefined, pendingName: undefined, lastTest: undefined,
  };
  let i = 0;
  while (i < lines.length && reading.bailOut === undefined) {
    i = readAt(reading, lines, i);
  }
  return summarise(reading);
}

/** Reads the element starting at `lines[i]`; returns the index after it. */
function readAt(reading: Reading, lines: readonly Line[], i: number): number {
  const line = lines[i] as Line;
  const { text } = line;
  if (reading.lastTest && YAML_START.test(text)) return readYaml(reading.lastTest, lines, i);
  if (text.startsWith(SUBTEST_INDENT)) return readSubtest(reading, lines, i);
  if (text.trim() === '') return i + 1;
  const closes = reading.pendingSubtest;
  reading.pendingSubtest = undefined;
  if (text.startsWith('#')) {
    const header = SUBTEST_HEADER.exec(text);
    if (header) {
      reading.pendingName = header[1]?.trim();
      reading.lastTest = undefined;
    } else {
      reading.lastTest?.diagnostics.push(text);
    }
    return i + 1;
  }
  const test = TEST_LINE.exec(text);
  if (test) {
    const { description, directive, reason } = splitDirective(test[3] ?? '');
    const entry: TapTest = {
      ok: test[1] === undefined,
      number: test[2] === undefined ? reading.tests.length + 1 : Number(test[2]),
      description,
      directive,
      reason,
      line: line.number,
      diagnostics: [],
      subtest: closes,
    };
    reading.tests.push(entry);
    reading.lastTest = entry;
    return i + 1;
  }
  reading.lastTest = undefined;
  const plan = PLAN_LINE.exec(text);
  if (plan) {
    const skip = plan[2] ? DIRECTIVE.exec(plan[2].trim()) : null;
    const skipAll = skip?.[1] && skip[1].toUpperCase() !== 'TODO' ? (skip[2] ?? '').trim() : undefined;
    reading.plans.push({ plan: { count: Number(plan[1]), skipAll }, testsBefore: reading.tests.length });
    return i + 1;
  }
  const bail = BAIL_OUT.exec(text);
  if (bail) {
    reading.bailOut = (bail[1] ?? '').trim();
    return i + 1;
  }
  const pragma = PRAGMA_LINE.exec(text);
  if (pragma) {
    if (pragma[2] === 'strict') reading.strict = pragma[1] === '+';
    return i + 1;
  }
  if (!(VERSION_LINE.test(text) && line.number === 1) && reading.strict) reading.nonTap.push(line);
  return i + 1;
}

/** A YAML block (`  ---` … `  ...`) after a test point: kept as its diagnostics. */
function readYaml(test: TapTest, lines: readonly Line[], start: number): number {
  let i = start;
  while (i < lines.length) {
    const text = (lines[i] as Line).text;
    test.diagnostics.push(text.slice(2));
    i += 1;
    if (YAML_END.test(text)) break;
  }
  return i;
}

/** A 4-space indented block: a subtest, closed by the test point that follows it. */
function readSubtest(reading: Reading, lines: readonly Line[], start: number): number {
  let end = start;
  while (end < lines.length && ((lines[end] as Line).text.startsWith(SUBTEST_INDENT) || (lines[end] as Line).text.trim() === '')) end += 1;
  // Blank lines between the block and what follows belong to neither.
  while (end > start && (lines[end - 1] as Line).text.trim() === '') end -= 1;
  const block = lines.slice(start, end).map((line) => ({ text: line.text.slice(SUBTEST_INDENT.length), number: line.number }));
  const header = block[0] ? SUBTEST_HEADER.exec(block[0].text) : null;
  const report = parseLines(block);
  // A bail out anywhere bails out the whole run (TAP 14).
  if (report.bailOut !== undefined) reading.bailOut = report.bailOut;
  reading.pendingSubtest = { name: reading.pendingName ?? header?.[1]?.trim(), report, text: block.map((line) => line.text).join('\n') };
  reading.pendingName = undefined;
  reading.lastTest = undefined;
  return end;
}

function planProblems(reading: Reading): string[] {
  const problems: string[] = [];
  const { tests, plans } = reading;
  const first = plans[0];
  if (plans.length > 1) problems.push(`${plans.length} plans in one stream`);
  if (!first) {
    if (tests.length > 0) problems.push(`no plan (1..${tests.length}): a stream must say how many tests it runs`);
    return problems;
  }
  if (first.testsBefore > 0 && first.testsBefore < tests.length) {
    problems.push(`the plan 1..${first.plan.count} must come before the first test or after the last one`);
  }
  if (first.plan.count !== tests.length) {
    problems.push(`planned ${first.plan.count} test${first.plan.count === 1 ? '' : 's'} (1..${first.plan.count}) but ${tests.length} ran`);
  }
  return problems;
}

function summarise(reading: Reading): TapReport {
  const { tests, bailOut } = reading;
  const problems = bailOut === undefined ? planProblems(reading) : [`Bail out!${bailOut ? ` ${bailOut}` : ''}`];
  const outOfSequence = tests.find((test, index) => test.number !== index + 1);
  if (outOfSequence) {
    problems.push(`test ${outOfSequence.number} out of sequence (expected ${tests.indexOf(outOfSequence) + 1})`);
  }
  for (const test of tests) {
    if (test.ok && test.directive === undefined && test.subtest && !test.subtest.report.ok) {
      problems.push(`test ${test.number}${test.description ? ` - ${test.description}` : ''} says ok but its subtest failed`);
    }
  }
  const strictLine = reading.nonTap[0];
  if (strictLine) problems.push(`line ${strictLine.number} is not TAP (pragma +strict): ${strictLine.text.trim()}`);
  const failed = tests.filter((t) => !t.ok && t.directive === undefined).length;
  return {
    tests,
    plan: reading.plans[0]?.plan,
    bailOut,
    problems,
    passed: tests.filter((t) => t.ok && t.directive === undefined).length,
    failed,
    skipped: tests.filter((t) => t.directive === 'skip').length,
    todo: tests.filter((t) => t.directive === 'todo').length,
    todoPassed: tests.filter((t) => t.ok && t.directive === 'todo').length,
    ok: failed === 0 && problems.length === 0,
  };
}

/** The tests that fail the stream: `not ok` without a TODO/SKIP directive. */
export function failingTests(report: TapReport): TapTest[] {
  return report.tests.filter((t) => !t.ok && t.directive === undefined);
}

/** `ok … # TODO`: tests still marked as to do that pass (time to remove the TODO). */
export function passingTodos(report: TapReport): TapTest[] {
  return report.tests.filter((t) => t.ok && t.directive === 'todo');
}

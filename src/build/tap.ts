/**
 * Reading the TAP output of SQL tests (Test Anything Protocol, versions 12 and 13):
 * which tests passed, failed, were skipped or are still to do, and whether the stream
 * as a whole passes. Pure: no I/O.
 *
 * A stream fails when a test is `not ok` without a TODO/SKIP directive, when the plan
 * (`1..N`) disagrees with the number of tests that ran, when it has more than one plan,
 * or when it says `Bail out!`. Indented lines (subtests, YAML diagnostics) belong to the
 * line above them and are not counted; `#` comments and `TAP version` are ignored.
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
  /** 1-based line of the output the test was reported on. */
  line: number;
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
  ok: boolean;
}

const TEST_LINE = /^(not )?ok(?=\s|$)\s*(\d+)?\s*(.*)$/;
const PLAN_LINE = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
const BAIL_OUT = /^Bail out!\s*(.*)$/;
const DIRECTIVE = /^(TODO|SKIP\S*)(?:\s+(.*))?$/i;

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
  const tests: TapTest[] = [];
  const plans: TapPlan[] = [];
  let bailOut: string | undefined;
  const lines = output.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line === '' || /^\s/.test(line) || line.startsWith('#')) return;
    const test = TEST_LINE.exec(line);
    if (test) {
      const { description, directive, reason } = splitDirective(test[3] ?? '');
      tests.push({
        ok: test[1] === undefined,
        number: test[2] === undefined ? tests.length + 1 : Number(test[2]),
        description,
        directive,
        reason,
        line: index + 1,
      });
      return;
    }
    const plan = PLAN_LINE.exec(line);
    if (plan) {
      const skip = plan[2] ? DIRECTIVE.exec(plan[2].trim()) : null;
      const skipAll = skip?.[1] && skip[1].toUpperCase() !== 'TODO' ? (skip[2] ?? '').trim() : undefined;
      plans.push({ count: Number(plan[1]), skipAll });
      return;
    }
    const bail = BAIL_OUT.exec(line);
    if (bail && bailOut === undefined) bailOut = (bail[1] ?? '').trim();
  });
  return summarise(tests, plans, bailOut);
}

function summarise(tests: TapTest[], plans: TapPlan[], bailOut: string | undefined): TapReport {
  const problems: string[] = [];
  const plan = plans[0];
  if (plans.length > 1) problems.push(`${plans.length} plans in one stream`);
  if (plan && bailOut === undefined && plan.count !== tests.length) {
    problems.push(`planned ${plan.count} test${plan.count === 1 ? '' : 's'} (1..${plan.count}) but ${tests.length} ran`);
  }
  if (bailOut !== undefined) problems.push(`Bail out!${bailOut ? ` ${bailOut}` : ''}`);
  const failed = tests.filter((t) => !t.ok && t.directive === undefined).length;
  const skipped = tests.filter((t) => t.directive === 'skip').length;
  const todo = tests.filter((t) => t.directive === 'todo').length;
  const passed = tests.filter((t) => t.ok && t.directive === undefined).length;
  return { tests, plan, bailOut, problems, passed, failed, skipped, todo, ok: failed === 0 && problems.length === 0 };
}

/** `not ok 3 - description` lines of the tests that fail the stream. */
export function failingTests(report: TapReport): TapTest[] {
  return report.tests.filter((t) => !t.ok && t.directive === undefined);
}

export interface TapTotals {
  files: number;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  /** Files that failed for another reason than a `not ok` (SQL error, plan mismatch…). */
  brokenFiles: number;
  ok: boolean;
}

/**
 * The one summary line printed after a run, e.g.
 * `PASS: 7 passed, 1 skipped, 1 todo (1 file)` or
 * `FAIL: 6 passed, 1 failed, 1 file with errors (2 files)`.
 */
export function formatTapSummary(totals: TapTotals): string {
  const parts = [`${totals.passed} passed`];
  if (totals.failed > 0) parts.push(`${totals.failed} failed`);
  if (totals.skipped > 0) parts.push(`${totals.skipped} skipped`);
  if (totals.todo > 0) parts.push(`${totals.todo} todo`);
  if (totals.brokenFiles > 0) parts.push(`${totals.brokenFiles} file${totals.brokenFiles === 1 ? '' : 's'} with errors`);
  return `${totals.ok ? 'PASS' : 'FAIL'}: ${parts.join(', ')} (${totals.files} file${totals.files === 1 ? '' : 's'})`;
}

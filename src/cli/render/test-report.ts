/**
 * How `database test` looks (SPEC §5, §11). The report goes to stdout: one line per
 * file as it finishes (`ok`/`FAILED`, counts, duration) with what went wrong below a
 * failed file, with `-v` the file's TAP under a header first, then a summary like
 * pg_prove's. On a terminal, stderr carries a live line with what is running. Colour
 * only where the stream is a terminal (NO_COLOR/FORCE_COLOR honoured).
 */
import path from 'node:path';
import { formatDuration, redact } from '../../base/log.js';
import type { Palette } from '../../base/palette.js';
import { plural } from '../../base/text.js';
import { failingTests, passingTodos, type TapReport, type TapTest } from '../../sqltest/tap.js';
import type { TestFileResult, TestRunEvent, TestTotals } from '../../sqltest/test-runner.js';
import type { TestResult } from '../../commands/test.js';
import { SqlError } from '../../pg/psql.js';
import { stdoutPalette } from '../output.js';
import type { CliContext } from '../run.js';

/** Diagnostic lines shown under a failing test (all of them are in the TAP, with -v). */
const MAX_DIAGNOSTICS = 12;
const LIVE_REFRESH_MS = 250;

export interface TestReportOptions {
  verbose: boolean;
  /** Where the live line goes, when it is a terminal. */
  live?: { write(text: string): unknown; isTTY?: boolean };
}

/** `1-3, 5, 7-8`: test numbers the way pg_prove lists them. */
export function numberRanges(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    const start = sorted[i] as number;
    let end = start;
    while (sorted[i + 1] === end + 1) {
      end += 1;
      i += 1;
    }
    ranges.push(start === end ? `${start}` : `${start}-${end}`);
  }
  return ranges.join(', ');
}

/** `3 passed, 1 failed, 1 skipped, 2 todo (1 passing)`: only what is not zero. */
export function formatCounts(counts: Pick<TapReport, 'passed' | 'failed' | 'skipped' | 'todo' | 'todoPassed'>): string {
  const parts = [`${counts.passed} passed`];
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (counts.todo > 0) parts.push(`${counts.todo} todo${counts.todoPassed > 0 ? ` (${counts.todoPassed} passing)` : ''}`);
  return parts.join(', ');
}

/**
 * The last line of a run, e.g. `PASS: 7 passed, 1 skipped, 1 todo (1 file)` or
 * `FAIL: 6 passed, 1 failed, 1 file with errors (2 files)`.
 */
export function formatSummaryLine(totals: TestTotals, durationMs?: number): string {
  const parts = [formatCounts(totals)];
  if (totals.brokenFiles > 0) parts.push(`${plural(totals.brokenFiles, 'file')} with errors`);
  const time = durationMs === undefined ? '' : `, ${formatDuration(durationMs)}`;
  return `${totals.ok ? 'PASS' : 'FAIL'}: ${parts.join(', ')} (${plural(totals.files, 'file')}${time})`;
}

function testLine(test: TapTest): string {
  return `${test.ok ? 'ok' : 'not ok'} ${test.number}${test.description ? ` - ${test.description}` : ''}`;
}

export class TestReport {
  /** What stopped a file, said once: `file:line: message` for an SQL error. */
  private errorLine(result: TestFileResult): string {
    const error = result.error;
    if (!error) return '';
    if (error instanceof SqlError && error.location) return redact(`${this.shown(error.location.file)}:${error.location.line}: ${error.location.message}`);
    return redact(error.message);
  }

  private readonly out: Palette;
  private readonly running = new Map<string, number>();
  private done = 0;
  private failed = 0;
  private total = 0;
  private readonly started = performance.now();
  private liveShown = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CliContext, private readonly options: TestReportOptions) {
    this.out = stdoutPalette(ctx);
  }

  private get liveEnabled(): boolean {
    return Boolean(this.options.live?.isTTY);
  }

  /** A path for the report: relative to the current directory when below it. */
  shown(file: string): string {
    const relative = path.relative(this.ctx.config.cwd, file);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  }

  private begin(fileCount: number): void {
    this.total = fileCount;
    if (!this.liveEnabled) return;
    this.ticker = setInterval(() => this.drawLive(), LIVE_REFRESH_MS);
    this.ticker.unref();
  }

  /** Anything written while the live line is up goes above it. */
  private print(write: () => void): void {
    this.clearLive();
    write();
    this.drawLive();
  }

  private clearLive(): void {
    if (!this.liveShown) return;
    this.options.live?.write('\r\x1b[K');
    this.liveShown = false;
  }

  private drawLive(): void {
    if (!this.liveEnabled || this.running.size === 0) return;
    const names = [...this.running.keys()].map((file) => this.shown(file));
    const width = Math.max(20, (process.stderr.columns || 80) - 1);
    const failed = this.failed > 0 ? `, ${this.failed} failed` : '';
    const line = `… ${this.done}/${this.total} done${failed} · running ${names.join(', ')} · ${formatDuration(performance.now() - this.started)}`;
    this.options.live?.write(`\r\x1b[K${this.ctx.log.color.gray(line.length > width ? `${line.slice(0, width - 1)}…` : line)}`);
    this.liveShown = true;
  }

  onEvent(event: TestRunEvent): void {
    switch (event.type) {
      case 'cleared': {
        const { databases, tablespaces, folders } = event.cleared;
        const what = [
          databases.length > 0 ? plural(databases.length, 'test database') : '',
          tablespaces.length + folders.length > 0 ? `${plural(tablespaces.length + folders.length, 'RAM folder')} of test databases` : '',
        ].filter(Boolean);
        this.print(() => this.ctx.log.notice(`cleared ${what.join(' and ')} left by runs that ended without cleaning up`));
        break;
      }
      case 'isolation': {
        const isolation = event.isolation;
        this.begin(event.files.length);
        if (isolation.kind === 'target') {
          this.print(() => this.ctx.log.warn(`cannot give each test file its own copy: ${isolation.reason}. Running the files in the target database itself, one after another`));
        } else {
          const dumped = isolation.dumped;
          const notMoved = dumped?.notMoved ? ` (${dumped.notMoved})` : '';
          if (dumped) this.print(() => this.ctx.log.info(`made the snapshot the test files are copied from with pg_dump (${formatDuration(dumped.durationMs)}): ${dumped.workers} stays connected to the target, so PostgreSQL cannot copy it with TEMPLATE${notMoved}`));
          if (isolation.cronRestarted !== undefined) this.ctx.log.debug(`pg_cron's scheduler (pid ${isolation.cronRestarted}) was restarted to free the target for the snapshot the copies are made from`);
          this.ctx.log.debug(`each file runs in its own copy of the target${isolation.ram ? ' (in RAM)' : ''}, ${isolation.jobs} at once`);
        }
        break;
      }
      case 'start':
        this.running.set(event.file, performance.now());
        this.drawLive();
        break;
      case 'finish':
        this.running.delete(event.result.file);
        this.done += 1;
        if (!event.result.ok) this.failed += 1;
        this.print(() => this.ctx.out(this.fileReport(event.result)));
        if (event.result.notices) for (const line of event.result.notices.split('\n')) if (line.trim()) this.ctx.log.debug(line);
        break;
    }
  }

  /** The status line of a file, with its TAP before it (-v) and what went wrong below it. */
  fileReport(result: TestFileResult): string {
    const name = this.shown(result.file);
    const lines: string[] = [];
    if (this.options.verbose) {
      lines.push(this.out.bold(`── ${name} ──`));
      if (result.output) lines.push(result.output.replace(/\n$/, ''));
    }
    const status = result.ok ? this.out.green('ok    ') : this.out.red('FAILED');
    const skipAll = result.tap.plan?.skipAll;
    const counts = skipAll !== undefined && result.tap.tests.length === 0
      ? `skipped${skipAll ? `: ${skipAll}` : ''}`
      : result.tap.tests.length > 0 || result.tap.plan ? formatCounts(result.tap) : 'no TAP output';
    lines.push(`${status} ${name}  ${counts}  ${this.out.gray(`(${formatDuration(result.durationMs)})`)}`);
    lines.push(...this.details(result).map((line) => `       ${line}`));
    return `${lines.join('\n')}\n`;
  }

  private details(result: TestFileResult): string[] {
    const lines: string[] = [];
    if (!this.options.verbose) {
      for (const test of failingTests(result.tap)) {
        lines.push(this.out.red(testLine(test)));
        const explain = [...test.diagnostics, ...(test.subtest ? test.subtest.text.split('\n') : [])];
        lines.push(...explain.slice(0, MAX_DIAGNOSTICS).map((line) => `  ${line}`));
        if (explain.length > MAX_DIAGNOSTICS) lines.push(`  … ${explain.length - MAX_DIAGNOSTICS} more lines (-v shows the TAP)`);
      }
    }
    if (result.error) {
      // The plan cannot match when an error stopped the file: only the error is news.
      lines.push(this.out.red(this.errorLine(result)));
      if (result.error.details) lines.push(...redact(result.error.details).split('\n'));
    } else {
      lines.push(...result.tap.problems.map((problem) => this.out.red(problem)));
    }
    for (const test of passingTodos(result.tap)) lines.push(this.out.yellow(`TODO passed: ${testLine(test)}${test.reason ? ` # TODO ${test.reason}` : ''}`));
    if (!result.error && result.tap.tests.length === 0 && !result.tap.plan) lines.push(this.out.yellow('passed because no SQL error occurred (it printed no TAP)'));
    return lines;
  }

  /** The summary after the last file: what failed, by file and test number, like pg_prove's. */
  finish(result: TestResult): void {
    if (this.ticker) clearInterval(this.ticker);
    this.clearLive();
    const notable = result.files.filter((file) => !file.ok || file.tap.todoPassed > 0);
    const lines: string[] = [];
    if (notable.length > 0 && result.files.length > 1) {
      lines.push('', 'Test Summary Report', '-------------------');
      for (const file of notable) {
        lines.push(`${this.shown(file.file)}`);
        const failing = failingTests(file.tap).map((test) => test.number);
        if (failing.length > 0) lines.push(`  Failed ${failing.length === 1 ? 'test' : 'tests'}: ${numberRanges(failing)}`);
        if (file.error) lines.push(`  ${this.errorLine(file)}`);
        else for (const problem of file.tap.problems) lines.push(`  ${problem}`);
        const todos = passingTodos(file.tap).map((test) => test.number);
        if (todos.length > 0) lines.push(`  TODO passed: ${numberRanges(todos)}`);
      }
    }
    const summary = formatSummaryLine(result.totals, result.durationMs);
    lines.push(result.ok ? this.out.green(summary) : this.out.red(summary));
    this.ctx.out(`${lines.join('\n')}\n`);
    if (result.junitFile) this.ctx.log.info(`JUnit report: ${this.shown(result.junitFile)}`);
  }

  /** Stops the live line (the run failed or was interrupted). */
  abort(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.clearLive();
  }
}

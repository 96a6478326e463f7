import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI log
 * reader understands, after vitest's own report. Before it, one `skipped: FILE > NAME`
 * line per skipped group (a whole describe block once, else the test), so a log says
 * which coverage a run left out (.ci/pg-matrix prints them per PostgreSQL version).
 * Not when `-t` picks tests: then the others are skipped only by that choice.
 */
export default class SummaryReporter implements Reporter {
  private picksByName = false;

  onInit(vitest: Vitest): void {
    this.picksByName = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const skippedGroups = new Set<string>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed += 1;
        else if (result.state === 'failed') counts.failed += 1;
        else {
          counts.skipped += 1;
          skippedGroups.add(skippedGroup(module, test, result.state === 'skipped' ? result.note : undefined));
        }
      }
    }
    const lines = this.picksByName ? [] : [...skippedGroups].map((group) => `skipped: ${group}\n`);
    process.stdout.write(`\n${lines.join('')}${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

/** `FILE > NAME (note)`: the outermost skipped describe block holding the test, else the test. */
function skippedGroup(module: TestModule, test: TestCase, note: string | undefined): string {
  let group: TestCase | TestSuite = test;
  for (let parent = test.parent; parent.type === 'suite' && parent.state() === 'skipped'; parent = parent.parent) group = parent;
  const why = note && group === test ? ` (${note})` : '';
  return `${module.relativeModuleId} > ${group.fullName}${why}`;
}

/** The pure migration planner (SPEC §7 rules): no database, no files. */
import { describe, expect, it } from 'vitest';
import { AmbiguousError, BadInputError } from '../src/base/errors.js';
import {
  checkHistory,
  findOutOfOrder,
  planMigrations,
  resolveTarget,
  type AppliedMigration,
  type MigrationPlan,
  type PlannedMigrationSource,
} from '../src/migrations/migration-plan.js';
import { parseCount } from '../src/cli/migrator-args.js';

function source(name: string, options: { hash?: string; down?: boolean } = {}): PlannedMigrationSource {
  return {
    name,
    hash: options.hash ?? `${name.slice(0, 2)}`.padEnd(64, 'a'),
    upFile: `/m/${name}/up.sql`,
    downFile: options.down === false ? null : `/m/${name}/down.sql`,
    downLabel: 'down.sql',
  };
}

function applied(from: PlannedMigrationSource, hash = from.hash): AppliedMigration {
  return { name: from.name, hash, appliedAt: new Date('2024-01-01T00:00:00Z') };
}

const A = source('20240101000000-a');
const B = source('20240102000000-b');
const C = source('20240103000000-c');
const DISK = [A, B, C];

function steps(plan: MigrationPlan): string[] {
  return plan.steps.map((step) => `${step.direction} ${step.name}`);
}

describe('migrate up', () => {
  it('applies the next N pending in name order, 1 by default, or all', () => {
    expect(steps(planMigrations(DISK, [], { kind: 'up', count: 1 }))).toEqual([`up ${A.name}`]);
    expect(steps(planMigrations(DISK, [applied(A)], { kind: 'up', count: 2 }))).toEqual([`up ${B.name}`, `up ${C.name}`]);
    expect(steps(planMigrations([C, A, B], [], { kind: 'up', count: 'all' }))).toEqual([`up ${A.name}`, `up ${B.name}`, `up ${C.name}`]);
  });

  it('runs the up file and records its hash', () => {
    const [step] = planMigrations(DISK, [], { kind: 'up', count: 1 }).steps;
    expect(step).toEqual({ direction: 'up', name: A.name, file: A.upFile, hash: A.hash });
  });

  it('has nothing to do when nothing is pending, for any count', () => {
    for (const count of [1, 5, 'all'] as const) {
      const plan = planMigrations(DISK, DISK.map((m) => applied(m)), { kind: 'up', count });
      expect(plan.steps).toEqual([]);
      expect(plan.nothingToDo).toMatch(/nothing to migrate/);
    }
  });

  it('refuses N larger than a non-zero pending count', () => {
    expect(() => planMigrations(DISK, [applied(A)], { kind: 'up', count: 3 })).toThrow(BadInputError);
    expect(() => planMigrations(DISK, [applied(A)], { kind: 'up', count: 3 })).toThrow(/only 2 pending/);
  });
});

describe('migrate down', () => {
  const all = DISK.map((m) => applied(m));

  it('reverts the last N applied, newest first, with the down files', () => {
    const plan = planMigrations(DISK, all, { kind: 'down', count: 2 });
    expect(steps(plan)).toEqual([`down ${C.name}`, `down ${B.name}`]);
    expect(plan.steps[0]?.file).toBe(C.downFile);
    expect(steps(planMigrations(DISK, all, { kind: 'down', count: 1 }))).toEqual([`down ${C.name}`]);
    expect(steps(planMigrations(DISK, all, { kind: 'down', count: 'all' }))).toHaveLength(3);
  });

  it('refuses to go past the start; down all with nothing applied has nothing to do', () => {
    expect(() => planMigrations(DISK, [applied(A)], { kind: 'down', count: 2 })).toThrow(/only 1 applied/);
    expect(() => planMigrations(DISK, [], { kind: 'down', count: 1 })).toThrow(BadInputError);
    const plan = planMigrations(DISK, [], { kind: 'down', count: 'all' });
    expect(plan.steps).toEqual([]);
    expect(plan.nothingToDo).toMatch(/nothing to revert/);
  });

  it('refuses when any migration to revert lacks its down file', () => {
    const noDown = source('20240102000000-b', { down: false });
    const disk = [A, noDown, C];
    const history = disk.map((m) => applied(m));
    expect(() => planMigrations(disk, history, { kind: 'down', count: 2 })).toThrow(/no down file for 20240102000000-b/);
    expect(steps(planMigrations(disk, history, { kind: 'down', count: 1 }))).toEqual([`down ${C.name}`]);
  });
});

describe('migrate to', () => {
  it('goes forward to NAME, backward to NAME, or stays', () => {
    expect(steps(planMigrations(DISK, [], { kind: 'to', target: B.name }))).toEqual([`up ${A.name}`, `up ${B.name}`]);
    expect(steps(planMigrations(DISK, DISK.map((m) => applied(m)), { kind: 'to', target: A.name }))).toEqual([`down ${C.name}`, `down ${B.name}`]);
    const stay = planMigrations(DISK, [applied(A), applied(B)], { kind: 'to', target: B.name });
    expect(stay.steps).toEqual([]);
    expect(stay.nothingToDo).toMatch(/already at/);
  });

  it('latest, head and last mean the newest migration on disk', () => {
    for (const target of ['latest', 'head', 'last']) {
      expect(steps(planMigrations(DISK, [applied(A)], { kind: 'to', target }))).toEqual([`up ${B.name}`, `up ${C.name}`]);
    }
  });

  it('accepts a unique timestamp; refuses unknown names and ambiguous timestamps', () => {
    expect(resolveTarget('20240102000000', DISK)).toBe(B);
    expect(() => planMigrations(DISK, [], { kind: 'to', target: '20990101000000-x' })).toThrow(/unknown migration/);
    const twin = source('20240102000000-twin');
    expect(() => resolveTarget('20240102000000', [A, B, twin])).toThrow(/matches 2 migrations/);
  });

  it('refuses to go back past a migration without a down file', () => {
    const disk = [A, B, source('20240103000000-c', { down: false })];
    expect(() => planMigrations(disk, disk.map((m) => applied(m)), { kind: 'to', target: A.name })).toThrow(BadInputError);
  });
});

describe('history checks', () => {
  it('refuses an applied migration missing on disk, showing both lists', () => {
    try {
      planMigrations([A], [applied(A), applied(B)], { kind: 'up', count: 'all' }, { allowOutOfOrder: true });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AmbiguousError);
      expect((error as AmbiguousError).message).toMatch(/missing on disk: 20240102000000-b/);
      expect((error as AmbiguousError).details).toMatch(/applied in the database:\n {2}20240101000000-a\n {2}20240102000000-b\non disk:\n {2}20240101000000-a/);
    }
  });

  it('refuses pending migrations that sort before applied ones (up, to), naming each and why', () => {
    const early = source('20231231000000-early');
    try {
      planMigrations([early, ...DISK], [applied(A), applied(C)], { kind: 'up', count: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AmbiguousError);
      expect((error as AmbiguousError).message).toMatch(/2 migrations on disk are out of order.*--allow-out-of-order/);
      expect((error as AmbiguousError).details).toBe(
        '  20231231000000-early: never applied, yet 20240101000000-a after it is (applied 2024-01-01T00:00:00.000Z)\n' +
          '  20240102000000-b: never applied, yet 20240103000000-c after it is (applied 2024-01-01T00:00:00.000Z)',
      );
    }
    expect(() => planMigrations([early, ...DISK], [applied(A)], { kind: 'to', target: 'latest' })).toThrow(AmbiguousError);
    expect(findOutOfOrder([early, ...DISK], [applied(A)]).map((found) => found.name)).toEqual([early.name]);
  });

  it('--allow-out-of-order applies them in name order, after the applied ones; down goes ahead with a warning', () => {
    const early = source('20231231000000-early');
    const disk = [early, ...DISK];
    const plan = planMigrations(disk, [applied(A), applied(C)], { kind: 'up', count: 'all' }, { allowOutOfOrder: true });
    expect(steps(plan)).toEqual([`up ${early.name}`, `up ${B.name}`]);
    expect(plan.outOfOrder).toEqual([early.name, B.name]);
    expect(plan.forced).toEqual([]);
    const down = planMigrations(disk, [applied(A), applied(C)], { kind: 'down', count: 1 });
    expect(steps(down)).toEqual([`down ${C.name}`]);
    expect(down.forced[0]).toMatch(/out of order .*; reverting goes ahead/);
  });

  it('--force proceeds past a mismatch, applying the holes', () => {
    const early = source('20231231000000-early');
    const plan = planMigrations([early, ...DISK], [applied(A)], { kind: 'up', count: 1 }, { force: true });
    expect(steps(plan)).toEqual([`up ${early.name}`]);
    expect(plan.forced[0]).toMatch(/history mismatch/);
  });

  it('refuses an applied migration whose hash changed, naming it; --force proceeds', () => {
    const history = [applied(A, 'f'.repeat(64)), applied(B)];
    expect(() => planMigrations(DISK, history, { kind: 'up', count: 1 })).toThrow(/changed on disk.*20240101000000-a/);
    expect(() => checkHistory(DISK, history)).toThrow(AmbiguousError);
    expect(checkHistory(DISK, history, { force: true })).toHaveLength(1);
    expect(steps(planMigrations(DISK, history, { kind: 'up', count: 1 }, { force: true }))).toEqual([`up ${C.name}`]);
  });

  it('compares hashes case-insensitively and checks history before the request', () => {
    expect(checkHistory(DISK, [applied(A, A.hash.toUpperCase())])).toEqual([]);
    expect(() => planMigrations(DISK, [applied(A, 'f'.repeat(64))], { kind: 'to', target: 'nope' })).toThrow(AmbiguousError);
  });
});

describe('parseCount', () => {
  it('reads N, all, latest and head', () => {
    expect(parseCount(undefined, 'up')).toBe(1);
    expect(parseCount('3', 'up')).toBe(3);
    expect(parseCount('all', 'down')).toBe('all');
    expect(parseCount('latest', 'up')).toBe('all');
    expect(parseCount('head', 'up')).toBe('all');
  });

  it('refuses anything else (exit 1)', () => {
    for (const word of ['0', '-1', 'x', '1.5']) expect(() => parseCount(word, 'up')).toThrow(BadInputError);
    expect(() => parseCount('latest', 'down')).toThrow(BadInputError);
  });
});

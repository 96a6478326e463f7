/** Where DB1 came from (the report's provenance line) and check's use of diff's report, without a database. */
import { describe, expect, it } from 'vitest';
import { compareSchemas } from '../src/diff/compare-schema.js';
import { describeHistory, describeOrigin } from '../src/diff/db1-origin.js';
import { formatTextReport, toJsonReport } from '../src/cli/render/diff-report.js';
import type { DiffResult } from '../src/diff/diff-result.js';

const info = { createdAt: '2026-12-07T07:00:00.000Z', sourceDataDir: '/p/focus/postgresql/data', database: 'testdb', serverVersion: '15.18', generator: 'db-tool 0.2.0' };

function result(overrides: Partial<DiffResult>): DiffResult {
  return {
    identical: true,
    backup: '/p/focus/postgresql-backup',
    migrationsApplied: [],
    entrypoint: '/p/db/src/entrypoint.sql',
    mock: false,
    compared: { privileges: false, columnOrder: true },
    schema: compareSchemas([], []),
    data: [],
    ...overrides,
  };
}

describe("DB1's origin", () => {
  it('a deploy of the sources: a baseline that never ran, so the diff compares the sources with themselves', () => {
    const line = describeOrigin(info, { baseline: 3, ran: 0 });
    expect(line).toBe('from a backup of testdb taken 2026-12-07T07:00:00.000Z, a deploy of the sources: its 3 migrations were recorded as a baseline and never ran, so this compares the sources with themselves (database check proves the migrations)');
    expect(describeHistory({ baseline: 1, ran: 0 })).toContain('its 1 migration was recorded');
  });

  it('a migrated database (a restore, a pull), one without a history, one with an empty history', () => {
    expect(describeHistory({ baseline: 0, ran: 2 })).toBe('a database the migrations ran on (2 migrations applied: a restore or a pull)');
    expect(describeHistory({ baseline: 3, ran: 1 })).toBe('a database the migrations ran on (1 migration applied, 3 recorded as a baseline: a restore or a pull)');
    expect(describeHistory(undefined)).toContain('without a migration history');
    expect(describeHistory({ baseline: 0, ran: 0 })).toBe('a database with an empty migration history');
    expect(describeOrigin(undefined, undefined)).toMatch(/^from a database without/);
  });

  it('the report says it under the DB1 line, in text and JSON', () => {
    const origin = describeOrigin(info, { baseline: 3, ran: 0 });
    const text = formatTextReport(result({ db1Origin: origin }));
    expect(text.split('\n').slice(0, 3)).toEqual([
      'database diff: no differences',
      '  DB1 = backup /p/focus/postgresql-backup + migrate up all (0 migrations applied)',
      `        ${origin}`,
    ]);
    expect(toJsonReport(result({ db1Origin: origin }))).toMatchObject({ db1: { description: 'backup + migrate up all', origin } });
  });

  it("check's proof: DB1 is an empty database, the title names check", () => {
    const proof = result({ backup: '', db1Start: 'an empty database', migrationsApplied: ['20240101000000-a'] });
    const text = formatTextReport(proof, undefined, 'database check (migrations vs sources)');
    expect(text).toMatch(/^database check \(migrations vs sources\): no differences\n {2}DB1 = an empty database \+ migrate up all \(1 migration applied\)\n/);
    expect(toJsonReport(proof)).toMatchObject({ db1: { description: 'an empty database + migrate up all' } });
  });
});

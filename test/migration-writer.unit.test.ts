/** The migration writer's planning, rendering and the rehearsal's arithmetic, without a database. */
import { describe, expect, it } from 'vitest';
import type { CatalogInfo, Column, TableInfo } from '../src/diff/migration-writer/catalog.js';
import { revokeStatements } from '../src/diff/migration-writer/object-statements.js';
import { planMigration } from '../src/diff/migration-writer/plan.js';
import type { SchemaSide } from '../src/diff/migration-writer/schema-side.js';
import { planHazards, renderMigration } from '../src/diff/migration-writer/render.js';
import { diffTable } from '../src/diff/migration-writer/table-diff.js';
import { parseCsv, summarizeStep, type StepReadings } from '../src/diff/rehearsal.js';
import type { SchemaObject } from '../src/diff/schema-dump.js';

function object(type: string, schema: string | null, name: string, sql: string): SchemaObject {
  const key = schema === null ? `${type} ${name}` : `${type} ${schema}.${name}`;
  return { key, type, schema, name, sql };
}

function column(name: string, type: string, extra: Partial<Column> = {}): Column {
  return { name, type, collation: null, notNull: false, default: null, identity: '', generated: null, ...extra };
}

function tableInfo(name: string, columns: Column[], extra: Partial<TableInfo> = {}): TableInfo {
  return {
    name,
    sqlName: name,
    kind: 'r',
    columns,
    allColumns: columns.map(({ name: n, type }) => ({ name: n, type })),
    checks: [],
    options: [],
    rowEstimate: 10,
    bytes: 8192,
    ...extra,
  };
}

function catalog(extra: Partial<CatalogInfo> = {}): CatalogInfo {
  return { tables: new Map(), enums: new Map(), composites: new Map(), domains: new Map(), indexTable: new Map(), dependants: new Map(), ...extra };
}

function side(objects: SchemaObject[], extra: Partial<CatalogInfo> = {}): SchemaSide {
  return { objects, catalog: catalog(extra) };
}

const context = { separateDefaults: new Set<string>(), separateChecks: new Set<string>() };

describe('table changes', () => {
  it('adds, drops, retypes and defaults columns, with hazards', () => {
    const from = tableInfo('app.t', [column('id', 'integer', { notNull: true }), column('old', 'text'), column('n', 'integer')]);
    const to = tableInfo('app.t', [column('id', 'integer', { notNull: true }), column('n', 'bigint', { default: '0' }), column('added', 'integer')]);
    const changes = diffTable(from, to, context);
    expect(changes.drops.map((s) => s.sql)).toEqual(['ALTER TABLE app.t DROP COLUMN "old";']);
    expect(changes.drops[0]?.hazards[0]).toMatch(/^data loss: drops column app\.t\.old/);
    expect(changes.alters.map((s) => s.sql)).toEqual([
      'ALTER TABLE app.t ADD COLUMN "added" integer;',
      'ALTER TABLE app.t ALTER COLUMN "n" TYPE bigint USING "n"::bigint;',
      'ALTER TABLE app.t ALTER COLUMN "n" SET DEFAULT 0;',
    ]);
    expect(changes.alters[1]?.hazards[0]).toMatch(/^rewrites app\.t/);
    expect(changes.touchedColumns).toEqual(['COLUMN app.t.old', 'COLUMN app.t.n']);
  });

  it('sets NOT NULL through a NOT VALID check validated in its own transaction', () => {
    const changes = diffTable(tableInfo('app.t', [column('a', 'text')]), tableInfo('app.t', [column('a', 'text', { notNull: true })]), context);
    expect(changes.alters.map((s) => [s.segment, s.sql])).toEqual([
      ['main', 'ALTER TABLE app.t ADD CONSTRAINT "t_a_not_null" CHECK ("a" IS NOT NULL) NOT VALID;'],
      ['validate', 'ALTER TABLE app.t VALIDATE CONSTRAINT "t_a_not_null";'],
      ['validate', 'ALTER TABLE app.t ALTER COLUMN "a" SET NOT NULL;'],
      ['validate', 'ALTER TABLE app.t DROP CONSTRAINT "t_a_not_null";'],
    ]);
  });

  it('never guesses a rename: a column dropped and one of the same type added is a manual step', () => {
    const changes = diffTable(tableInfo('app.t', [column('name', 'text')]), tableInfo('app.t', [column('full_name', 'text')]), context);
    expect(changes.drops).toEqual([]);
    expect(changes.alters).toEqual([]);
    expect(changes.manualSteps[0]).toMatch(/rename \(name → full_name\).*RENAME COLUMN/);
  });

  it('leaves serial defaults to their DEFAULT object and changes storage options', () => {
    const from = tableInfo('app.t', [column('id', 'integer', { default: "nextval('app.t_id_seq'::regclass)" })], { options: ['fillfactor=90', 'autovacuum_enabled=false'] });
    const to = tableInfo('app.t', [column('id', 'integer')], { options: ['fillfactor=80'] });
    const changes = diffTable(from, to, { ...context, separateDefaults: new Set(['DEFAULT app.t id']) });
    expect(changes.alters.map((s) => s.sql)).toEqual(['ALTER TABLE app.t SET (fillfactor=80);', 'ALTER TABLE app.t RESET (autovacuum_enabled);']);
  });
});

describe('planMigration', () => {
  const table = object('TABLE', 'app', 't', 'CREATE TABLE app.t (\n    id integer\n);');
  const view = object('VIEW', 'app', 'v', 'CREATE VIEW app.v AS\n SELECT t.id\n   FROM app.t;');
  const index = object('INDEX', 'app', 't_id_idx', 'CREATE INDEX t_id_idx ON app.t USING btree (id);');

  it('marks DROP POLICY on an existing table as CREATE POLICY is marked: ACCESS EXCLUSIVE', () => {
    const policy = object('POLICY', 'app', 't own', 'CREATE POLICY own ON app.t USING ((id = 1));');
    const dropped = planMigration(side([table, policy]), side([table]));
    expect(dropped.statements.map((s) => [s.sql, s.hazards.map((h) => h.split(' (')[0])])).toEqual([['DROP POLICY "own" ON "app"."t";', ['takes an ACCESS EXCLUSIVE lock on app.t']]]);
    const created = planMigration(side([table]), side([table, policy]));
    expect(created.statements[0]?.hazards[0]?.split(' (')[0]).toBe('takes an ACCESS EXCLUSIVE lock on app.t');
  });

  it('swaps a changed index of an existing table: built under a temporary name, the old dropped, the new renamed', () => {
    const changed = object('INDEX', 'app', 't_id_idx', 'CREATE INDEX t_id_idx ON app.t USING btree (id DESC);');
    const indexTable = new Map([['INDEX app.t_id_idx', 'app.t']]);
    const plan = planMigration(side([table, index], { indexTable }), side([table, changed], { indexTable }));
    expect(plan.statements.map((s) => `${s.segment}: ${s.sql}`)).toEqual([
      'after: CREATE INDEX CONCURRENTLY "t_id_idx_new" ON app.t USING btree (id DESC);',
      'after: DROP INDEX CONCURRENTLY "app"."t_id_idx";',
      'after: ALTER INDEX "app"."t_id_idx_new" RENAME TO "t_id_idx";',
    ]);
  });

  it('creates new objects in the target dump order and drops old ones in reverse source order', () => {
    const from = side([object('SCHEMA', null, 'old', 'CREATE SCHEMA old;'), object('TABLE', 'old', 'x', 'CREATE TABLE old.x (\n    a integer\n);')]);
    const to = side([object('SCHEMA', null, 'app', 'CREATE SCHEMA app;'), table, view]);
    const plan = planMigration(from, to);
    expect(plan.statements.map((s) => s.sql)).toEqual([
      'DROP TABLE "old"."x";',
      'DROP SCHEMA "old";',
      'CREATE SCHEMA app;',
      'CREATE TABLE app.t (\n    id integer\n);',
      'CREATE VIEW app.v AS\n SELECT t.id\n   FROM app.t;',
    ]);
    expect(plan.statements[0]?.hazards).toEqual(['data loss: drops table old.x and its rows']);
  });

  it('builds an index on an existing table CONCURRENTLY after the transaction, and inside it on a new table', () => {
    const t = tableInfo('app.t', [column('id', 'integer')]);
    const existing = planMigration(side([table], { tables: new Map([['app.t', t]]) }), side([table, index], { tables: new Map([['app.t', t]]), indexTable: new Map([['INDEX app.t_id_idx', 'app.t']]) }));
    expect(existing.statements.map((s) => [s.segment, s.sql])).toEqual([['after', 'CREATE INDEX CONCURRENTLY t_id_idx ON app.t USING btree (id);']]);
    const fresh = planMigration(side([]), side([table, index], { indexTable: new Map([['INDEX app.t_id_idx', 'app.t']]) }));
    expect(fresh.statements.map((s) => s.segment)).toEqual(['main', 'main']);
  });

  it('adds a foreign key to an existing table NOT VALID, then validates it', () => {
    const fk = object('FK CONSTRAINT', 'app', 't t_fk', 'ALTER TABLE ONLY app.t\n    ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES app.u(id);');
    const plan = planMigration(side([table]), side([table, fk]));
    expect(plan.statements.map((s) => [s.segment, s.sql])).toEqual([
      ['main', 'ALTER TABLE ONLY app.t\n    ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES app.u(id) NOT VALID;'],
      ['validate', 'ALTER TABLE "app"."t" VALIDATE CONSTRAINT "t_fk";'],
    ]);
  });

  it('drops and recreates the views that use a retyped column', () => {
    const before = tableInfo('app.t', [column('id', 'integer')]);
    const after = tableInfo('app.t', [column('id', 'bigint')]);
    const changedTable = object('TABLE', 'app', 't', 'CREATE TABLE app.t (\n    id bigint\n);');
    const plan = planMigration(
      side([table, view], { tables: new Map([['app.t', before]]), dependants: new Map([['COLUMN app.t.id', ['VIEW app.v']]]) }),
      side([changedTable, view], { tables: new Map([['app.t', after]]) }),
    );
    expect(plan.statements.map((s) => s.sql)).toEqual([
      'DROP VIEW "app"."v";',
      'ALTER TABLE app.t ALTER COLUMN "id" TYPE bigint USING "id"::bigint;',
      'CREATE VIEW app.v AS\n SELECT t.id\n   FROM app.t;',
    ]);
  });

  it('adds enum values outside the transaction and makes a removal a manual step', () => {
    const type = (labels: string) => object('TYPE', 'app', 's', `CREATE TYPE app.s AS ENUM (${labels});`);
    const up = planMigration(side([type("'a', 'c'")], { enums: new Map([['app.s', ['a', 'c']]]) }), side([type("'a', 'b', 'c'")], { enums: new Map([['app.s', ['a', 'b', 'c']]]) }));
    expect(up.statements.map((s) => [s.segment, s.sql])).toEqual([['before', `ALTER TYPE "app"."s" ADD VALUE 'b' AFTER 'a';`]]);
    const down = planMigration(side([type("'a', 'b', 'c'")], { enums: new Map([['app.s', ['a', 'b', 'c']]]) }), side([type("'a', 'c'")], { enums: new Map([['app.s', ['a', 'c']]]) }));
    expect(down.statements).toEqual([]);
    expect(down.manualSteps[0]).toMatch(/^enum app\.s: values 'b' removed/);
  });

  it('replaces a function in place when its signature stays, and recreates it when its result type changes', () => {
    const fn = (returns: string, body: string) => object('FUNCTION', 'app', 'f(integer)', `CREATE FUNCTION app.f(x integer) RETURNS ${returns}\n    LANGUAGE sql\n    AS $$ ${body} $$;`);
    const replaced = planMigration(side([fn('integer', 'SELECT 1')]), side([fn('integer', 'SELECT 2')]));
    expect(replaced.statements.map((s) => s.sql)).toEqual(['CREATE OR REPLACE FUNCTION app.f(x integer) RETURNS integer\n    LANGUAGE sql\n    AS $$ SELECT 2 $$;']);
    const recreated = planMigration(side([fn('integer', 'SELECT 1')]), side([fn('bigint', 'SELECT 1')]));
    expect(recreated.statements.map((s) => s.sql)).toEqual(['DROP FUNCTION "app"."f"(integer);', 'CREATE FUNCTION app.f(x integer) RETURNS bigint\n    LANGUAGE sql\n    AS $$ SELECT 1 $$;']);
  });

  it('does not drop what goes with a dropped table (its index, comment, serial sequence)', () => {
    const from = side(
      [
        table,
        object('COMMENT', 'app', 'TABLE t', "COMMENT ON TABLE app.t IS 'x';"),
        object('SEQUENCE', 'app', 't_id_seq', 'CREATE SEQUENCE app.t_id_seq;'),
        object('SEQUENCE OWNED BY', 'app', 't_id_seq', 'ALTER SEQUENCE app.t_id_seq OWNED BY app.t.id;'),
        object('DEFAULT', 'app', 't id', "ALTER TABLE ONLY app.t ALTER COLUMN id SET DEFAULT nextval('app.t_id_seq'::regclass);"),
        index,
      ],
      { indexTable: new Map([['INDEX app.t_id_idx', 'app.t']]) },
    );
    from.objects[1]!.key = 'COMMENT TABLE app.t';
    expect(planMigration(from, side([])).statements.map((s) => s.sql)).toEqual(['DROP TABLE "app"."t";']);
  });

  it('turns default privileges around, and leaves grants naming the masked owner to a manual step', () => {
    expect(revokeStatements('ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA s GRANT SELECT ON TABLES TO reader;').map((s) => s.sql)).toEqual([
      'ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA s REVOKE SELECT ON TABLES FROM reader;',
    ]);
    const acl = (sql: string) => object('ACL', 'app', 'TABLE t', sql);
    const plan = planMigration(side([table]), side([table, acl('REVOKE ALL ON TABLE app.t FROM <owner>;\nGRANT SELECT ON TABLE app.t TO reader;')]));
    expect(plan.statements.map((s) => s.sql)).toEqual(['GRANT SELECT ON TABLE app.t TO reader;']);
    expect(plan.manualSteps[0]).toMatch(/^ACL app\.TABLE t: grants naming the object's owner/);
  });

  it('turns grants around for a dropped ACL', () => {
    expect(revokeStatements('REVOKE ALL ON TABLE app.t FROM PUBLIC;\nGRANT SELECT ON TABLE app.t TO reader;').map((s) => s.sql)).toEqual([
      'GRANT ALL ON TABLE app.t TO PUBLIC;',
      'REVOKE SELECT ON TABLE app.t FROM reader;',
    ]);
  });
});

describe('renderMigration', () => {
  it('writes a plan with segments as a no-transaction migration, each transaction its own BEGIN … COMMIT', () => {
    const text = renderMigration(
      {
        statements: [
          { sql: "ALTER TYPE s ADD VALUE 'x';", segment: 'before', hazards: [] },
          { sql: 'ALTER TABLE t DROP COLUMN c;', segment: 'main', hazards: ['data loss: c'] },
          { sql: 'ALTER TABLE t VALIDATE CONSTRAINT k;', segment: 'validate', hazards: [] },
          { sql: 'CREATE INDEX CONCURRENTLY i ON t (a);', segment: 'after', hazards: [] },
        ],
        manualSteps: ['rename by hand'],
      },
      { title: ['title'] },
    );
    expect(text.split('\n')[0]).toBe('-- db-tool: no-transaction');
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('-- ') || line.startsWith('-- hazard') || line.startsWith('-- manual') || line.startsWith('-- db-tool'));
    expect(lines).toEqual([
      '-- db-tool: no-transaction',
      '-- manual step: rename by hand',
      "SET lock_timeout = '5s';",
      "ALTER TYPE s ADD VALUE 'x';",
      'BEGIN;',
      '-- hazard: data loss: c',
      'ALTER TABLE t DROP COLUMN c;',
      'COMMIT;',
      'BEGIN;',
      'ALTER TABLE t VALIDATE CONSTRAINT k;',
      'COMMIT;',
      'CREATE INDEX CONCURRENTLY i ON t (a);',
    ]);
    // Only the main transaction: migrator's own, no marker, no BEGIN/COMMIT.
    const plain = renderMigration({ statements: [{ sql: 'ALTER TABLE t ADD COLUMN c int;', segment: 'main', hazards: [] }], manualSteps: [] }, { title: ['title'] });
    expect(plain).not.toMatch(/no-transaction|BEGIN|COMMIT/);
    // A down that cannot undo fails at once, with its manual steps as the message.
    const refused = renderMigration({ statements: [], manualSteps: ["enum app.s: value 'x' removed"] }, { title: ['title'], failOnManualSteps: true });
    expect(refused).toContain("DO $manual$ BEGIN RAISE EXCEPTION '%', 'this migration needs manual steps first: enum app.s: value ''x'' removed'; END $manual$;");
    expect(refused).not.toContain('nothing to change');
    expect(planHazards({ statements: [{ sql: 'DROP TABLE t;', segment: 'main', hazards: ['data loss: t'] }], manualSteps: [] })).toEqual([{ statement: 'DROP TABLE t;', hazard: 'data loss: t' }]);
  });
});

describe('rehearsal', () => {
  const readings = (locks: StepReadings['locks'], seconds: number): StepReadings => ({
    startSeconds: 100,
    endSeconds: 100 + seconds,
    filesBefore: new Map([['1', '10'], ['2', '20']]),
    locks,
    filesAfter: new Map([
      ['1', { file: '11', relation: 'app.big', bytes: 200 * 1024 * 1024 }],
      ['2', { file: '20', relation: 'app.small', bytes: 8192 }],
      ['3', { file: '30', relation: 'app.new', bytes: 0 }],
    ]),
  });
  const thresholds = { longLockMs: 1000, largeTableBytes: 100 * 1024 * 1024 };

  it('reports the strongest lock per relation, rewrites by relfilenode, and flags what would hurt', () => {
    const step = summarizeStep(
      'm1',
      readings(
        [
          { oid: '1', mode: 'AccessShareLock', relation: 'app.big' },
          { oid: '1', mode: 'AccessExclusiveLock', relation: 'app.big' },
          { oid: '3', mode: 'AccessExclusiveLock', relation: 'app.new' },
          { oid: '2', mode: 'RowExclusiveLock', relation: 'app.small' },
        ],
        2.5,
      ),
      thresholds,
    );
    expect(step.durationMs).toBe(2500);
    expect(step.locks).toEqual([
      { relation: 'app.big', mode: 'AccessExclusiveLock', existing: true },
      { relation: 'app.new', mode: 'AccessExclusiveLock', existing: false },
      { relation: 'app.small', mode: 'RowExclusiveLock', existing: true },
    ]);
    expect(step.rewritten).toEqual([{ relation: 'app.big', bytes: 200 * 1024 * 1024 }]);
    expect(step.flags).toEqual(['held ACCESS EXCLUSIVE on app.big for up to 2.5 s', 'rewrote app.big (200.0 MB)']);
  });

  it('does not flag a short lock or a lock on a table the migration created', () => {
    const step = summarizeStep('m2', readings([{ oid: '3', mode: 'AccessExclusiveLock', relation: 'app.new' }], 5), { ...thresholds, largeTableBytes: Infinity });
    expect(step.flags).toEqual([]);
  });

  it('reads psql csv output', () => {
    expect(parseCsv('lock,1,AccessExclusiveLock,"app.""odd, name"""\ntime,2,,\n')).toEqual([
      ['lock', '1', 'AccessExclusiveLock', 'app."odd, name"'],
      ['time', '2', '', ''],
    ]);
  });
});

describe('report sections', () => {
  it('renders the rehearsal table with existing-relation locks, rewrites and flags', async () => {
    const [{ rehearsalLines, migrationLines }, { diffSettled }] = await Promise.all([import('../src/cli/render/diff-migration.js'), import('../src/diff/migration-report.js')]);
    const lines = rehearsalLines([
      {
        name: '20240101000000-token',
        durationMs: 1400,
        locks: [
          { relation: 'app.t', mode: 'AccessExclusiveLock', existing: true },
          { relation: 'app.new', mode: 'AccessExclusiveLock', existing: false },
        ],
        rewritten: [{ relation: 'app.t', bytes: 2048 }],
        flags: ['held ACCESS EXCLUSIVE on app.t for up to 1.4 s'],
      },
    ]);
    expect(lines[0]).toBe("Rehearsal (pending migrations on the backup's data)");
    expect(lines[1]).toBe('  migration             locked (existing relations)  rewrote       time');
    expect(lines[2]).toBe('  20240101000000-token  app.t ACCESS EXCLUSIVE       app.t (2 kB)  1.4 s');
    expect(lines[3]).toBe('  ! 20240101000000-token: held ACCESS EXCLUSIVE on app.t for up to 1.4 s');
    const failed = {
      name: 'x',
      up: '',
      down: '',
      hazards: [],
      manualSteps: { up: ['rename by hand'], down: [] },
      proof: { up: { converged: false, error: 'up.sql failed: <stdin>:3: boom' }, proved: false },
    };
    expect(migrationLines(failed)).toEqual(['Migration: NOT written: the proof failed (migration x)', '  up.sql on a copy of DB1, compared with DB2: up.sql failed: <stdin>:3: boom', '  manual step (up): rename by hand']);
    expect(diffSettled({ identical: false, data: [], migration: failed })).toBe(false);
    expect(diffSettled({ identical: false, data: [], migration: { ...failed, proof: { up: { converged: true }, proved: true } } })).toBe(true);
    expect(diffSettled({ identical: true, data: [] })).toBe(true);
  });
});

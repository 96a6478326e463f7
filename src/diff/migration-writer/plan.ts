/**
 * Plans the migration from one schema to another (SPEC §8 `--write-migration`). Pure.
 *
 * Inputs are both sides' pg_dump objects in dump order (pg_dump sorts them so that each
 * comes after what it depends on) and their catalogs. The plan:
 *
 * 1. drop phase, in reverse dump order of the source: objects that go away, objects
 *    that must be recreated, the views that depend on either (recursively), and the
 *    subtractive part of changed tables (dropped columns and checks);
 * 2. create phase, in dump order of the target: new and recreated objects, taken from
 *    pg_dump's own CREATE text, and the in-place changes of the others (ALTER TABLE,
 *    CREATE OR REPLACE, ALTER SEQUENCE, ALTER TYPE … ADD VALUE, COMMENT …).
 *
 * Objects that belong to one being dropped (its indexes, constraints, comments…) are not
 * dropped on their own. What cannot be generated safely becomes a manual step.
 */
import { HAZARD, statement, type MigrationPlan, type Statement } from './statement.js';
import { diffTable, type TableChanges } from './table-diff.js';
import { SchemaSide, unquoteQualified, isIdentitySequence, SideIndex } from './schema-side.js';
import { createStatements, dropStatements, OWNER_MASK, recomputeHazard, swapIndex } from './object-statements.js';
import { decideChange } from './change-decision.js';

export interface PlanOptions {
  /** diff --ignore-column-order: positions are no difference (and no manual step). */
  ignoreColumnOrder?: boolean;
}

/** Plans the statements that turn `from` into `to`. */
export function planMigration(from: SchemaSide, to: SchemaSide, options: PlanOptions = {}): MigrationPlan {
  const source = new SideIndex(from);
  const target = new SideIndex(to);
  const manualSteps: string[] = [];
  const separateDefaults = new Set([...from.objects, ...to.objects].filter((o) => o.type === 'DEFAULT').map((o) => o.key));
  const separateChecks = new Set([...from.objects, ...to.objects].filter((o) => o.type === 'CHECK CONSTRAINT' || o.type === 'CONSTRAINT').map((o) => `${o.schema}.${o.name}`));

  for (const object of [...from.objects, ...to.objects]) {
    const changed = source.byKey.get(object.key)?.sql !== target.byKey.get(object.key)?.sql;
    if (changed && (object.type === 'ACL' || object.type === 'DEFAULT ACL') && object.sql.includes(OWNER_MASK)) {
      const step = `${object.key}: grants naming the object's owner (shown as ${OWNER_MASK}) are not generated; apply them by hand if they matter`;
      if (!manualSteps.includes(step)) manualSteps.push(step);
    }
  }
  const dropped = new Set<string>();
  const recreated = new Set<string>();
  const changes = new Map<string, Statement[]>();
  const tableChanges = new Map<string, TableChanges>();
  const dependencySeeds: string[] = [];

  for (const object of from.objects) if (!target.byKey.has(object.key)) dropped.add(object.key);
  for (const object of to.objects) {
    const old = source.byKey.get(object.key);
    if (!old || old.sql === object.sql) continue;
    if (object.type === 'TABLE') {
      const before = from.catalog.tables.get(`${object.schema}.${object.name}`);
      const after = to.catalog.tables.get(`${object.schema}.${object.name}`);
      if (!before || !after) continue;
      const diff = diffTable(before, after, { separateDefaults, separateChecks, ignoreColumnOrder: options.ignoreColumnOrder });
      tableChanges.set(object.key, diff);
      manualSteps.push(...diff.manualSteps);
      dependencySeeds.push(...diff.touchedColumns);
      continue;
    }
    const decision = decideChange(old, object, from, to, manualSteps);
    if (decision.recreate) recreated.add(object.key);
    else changes.set(object.key, decision.statements);
  }

  // Views that use something dropped or recreated must be dropped first and recreated after.
  const pending = [...dropped, ...recreated, ...dependencySeeds];
  const seen = new Set(pending);
  while (pending.length > 0) {
    const key = pending.pop() as string;
    for (const dependant of from.catalog.dependants.get(key) ?? []) {
      if (seen.has(dependant)) continue;
      seen.add(dependant);
      pending.push(dependant);
      if (target.byKey.has(dependant)) recreated.add(dependant);
    }
  }
  for (const key of recreated) {
    dropped.add(key);
    changes.delete(key);
  }

  // An existing relation: on both sides and neither dropped nor recreated.
  const existing = (key: string | undefined): boolean => key !== undefined && source.byKey.has(key) && !dropped.has(key);
  const statements: Statement[] = [];
  // A changed index of a table that stays: built beside the old one, then swapped in.
  const swappedIndexes = new Set(
    to.objects.filter((object) => object.type === 'INDEX' && recreated.has(object.key) && source.byKey.has(object.key) && existing(target.parentOf(object))).map((object) => object.key),
  );

  for (const object of [...from.objects].reverse()) {
    const table = tableChanges.get(object.key);
    if (table) statements.push(...table.drops);
    if (!dropped.has(object.key) || swappedIndexes.has(object.key)) continue;
    const parent = source.parentOf(object);
    if (parent !== undefined && dropped.has(parent)) continue;
    statements.push(...dropStatements(object, source, existing));
  }

  // A new partition of an existing table is created as one: CREATE TABLE … PARTITION OF
  // (a plain CREATE TABLE, then ATTACH, would be a table of its own for a moment, and
  // hectic inheritance rejects such a table).
  const partitions = new Map<string, string>();
  for (const object of to.objects) {
    const attach = object.type === 'TABLE ATTACH' && !source.byKey.has(object.key) ? /^ALTER TABLE (?:ONLY )?(\S+) ATTACH PARTITION (\S+) ((?:FOR VALUES|DEFAULT)[\s\S]*);$/.exec(object.sql) : null;
    if (!attach?.[1] || !attach[2] || !attach[3]) continue;
    const tableKey = `TABLE ${object.schema}.${object.name}`;
    if (!existing(source.relation(unquoteQualified(attach[1]))) || source.byKey.has(tableKey)) continue;
    partitions.set(tableKey, `CREATE TABLE ${attach[2]} PARTITION OF ${attach[1]} ${attach[3]};`);
    partitions.set(object.key, '');
  }
  // PARTITION OF also makes the partition's share of the parent's indexes and keys.
  for (const object of to.objects) {
    if (object.type !== 'INDEX ATTACH' || object.schema === null) continue;
    const index = `INDEX ${object.schema}.${object.name}`;
    const table = to.catalog.indexTable.get(index);
    if (table === undefined || !partitions.has(`TABLE ${table}`)) continue;
    const tableName = table.slice(table.indexOf('.') + 1);
    for (const key of [object.key, index, `CONSTRAINT ${object.schema}.${tableName} ${object.name}`]) partitions.set(key, '');
  }

  for (const object of to.objects) {
    const table = tableChanges.get(object.key);
    if (table) {
      statements.push(...table.alters);
      continue;
    }
    const partition = partitions.get(object.key);
    if (partition !== undefined) {
      if (partition) statements.push(statement(partition, 'main', [HAZARD.accessExclusive(unquoteQualified(/ PARTITION OF (\S+)/.exec(partition)?.[1] ?? ''))]));
      continue;
    }
    const change = changes.get(object.key);
    const parent = target.parentOf(object);
    if (swappedIndexes.has(object.key)) {
      statements.push(...swapIndex(object));
      continue;
    }
    const isNew = !source.byKey.has(object.key) || recreated.has(object.key) || (parent !== undefined && recreated.has(parent));
    if (isNew && object.type === 'MATERIALIZED VIEW') {
      statements.push(...createStatements(object, false).map((item) => ({ ...item, hazards: [recomputeHazard(object, from.catalog.tables.get(`${object.schema}.${object.name}`))] })));
      continue;
    }
    if (isNew) {
      if (isIdentitySequence(object) && existing(parent)) continue; // the column's ADD … IDENTITY made it
      statements.push(...createStatements(object, existing(parent)));
    } else if (change) {
      statements.push(...change);
    }
  }
  return { statements, manualSteps };
}

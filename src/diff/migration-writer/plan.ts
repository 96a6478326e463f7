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
import type { SchemaObject } from '../schema-dump.js';
import { decideChange } from './change-decision.js';
import { createStatements, dropStatements, OWNER_MASK, recomputeHazard, swapIndex } from './object-statements.js';
import { isIdentitySequence, SideIndex, unquoteQualified, type SchemaSide } from './schema-side.js';
import { HAZARD, statement, type MigrationPlan, type Statement } from './statement.js';
import { diffTable, type TableChanges } from './table-diff.js';

export interface PlanOptions {
  /** diff --ignore-column-order: positions are no difference (and no manual step). */
  ignoreColumnOrder?: boolean;
}

/** Both sides, indexed, and what the plan has decided so far. */
interface Planning {
  from: SchemaSide;
  to: SchemaSide;
  source: SideIndex;
  target: SideIndex;
  manualSteps: string[];
  /** Keys of source objects to drop: gone, or recreated. */
  dropped: Set<string>;
  recreated: Set<string>;
  /** In-place changes of objects on both sides, by key. */
  changes: Map<string, Statement[]>;
  tableChanges: Map<string, TableChanges>;
  /** Columns changed in place: views using them are recreated. */
  dependencySeeds: string[];
}

/** Plans the statements that turn `from` into `to`. */
export function planMigration(from: SchemaSide, to: SchemaSide, options: PlanOptions = {}): MigrationPlan {
  const plan: Planning = {
    from, to, source: new SideIndex(from), target: new SideIndex(to), manualSteps: ownerGrantSteps(from, to),
    dropped: new Set(), recreated: new Set(), changes: new Map(), tableChanges: new Map(), dependencySeeds: [],
  };
  decideChanges(plan, options);
  recreateDependants(plan);
  // An existing relation: on both sides and neither dropped nor recreated.
  const existing = (key: string | undefined): boolean => key !== undefined && plan.source.byKey.has(key) && !plan.dropped.has(key);
  // A changed index of a table that stays: built beside the old one, then swapped in.
  const swappedIndexes = new Set(
    to.objects.filter((object) => object.type === 'INDEX' && plan.recreated.has(object.key) && plan.source.byKey.has(object.key) && existing(plan.target.parentOf(object))).map((object) => object.key),
  );
  const statements = [...dropPhase(plan, existing, swappedIndexes), ...createPhase(plan, existing, swappedIndexes)];
  return { statements, manualSteps: plan.manualSteps };
}

/** Grants naming an owner that is masked cannot be generated: each becomes a manual step. */
function ownerGrantSteps(from: SchemaSide, to: SchemaSide): string[] {
  const steps: string[] = [];
  const before = new Map(from.objects.map((object) => [object.key, object.sql]));
  const after = new Map(to.objects.map((object) => [object.key, object.sql]));
  for (const object of [...from.objects, ...to.objects]) {
    const changed = before.get(object.key) !== after.get(object.key);
    if (changed && (object.type === 'ACL' || object.type === 'DEFAULT ACL') && object.sql.includes(OWNER_MASK)) {
      const step = `${object.key}: grants naming the object's owner (shown as ${OWNER_MASK}) are not generated; apply them by hand if they matter`;
      if (!steps.includes(step)) steps.push(step);
    }
  }
  return steps;
}

/** Sorts every object into dropped, recreated, changed in place, or a changed table. */
function decideChanges(plan: Planning, options: PlanOptions): void {
  const { from, to, source, target } = plan;
  const separateDefaults = new Set([...from.objects, ...to.objects].filter((o) => o.type === 'DEFAULT').map((o) => o.key));
  const separateChecks = new Set([...from.objects, ...to.objects].filter((o) => o.type === 'CHECK CONSTRAINT' || o.type === 'CONSTRAINT').map((o) => `${o.schema}.${o.name}`));
  for (const object of from.objects) if (!target.byKey.has(object.key)) plan.dropped.add(object.key);
  for (const object of to.objects) {
    const old = source.byKey.get(object.key);
    if (!old || old.sql === object.sql) continue;
    if (object.type === 'TABLE') {
      const before = from.catalog.tables.get(`${object.schema}.${object.name}`);
      const after = to.catalog.tables.get(`${object.schema}.${object.name}`);
      if (!before || !after) continue;
      const diff = diffTable(before, after, { separateDefaults, separateChecks, ignoreColumnOrder: options.ignoreColumnOrder });
      plan.tableChanges.set(object.key, diff);
      plan.manualSteps.push(...diff.manualSteps);
      plan.dependencySeeds.push(...diff.touchedColumns);
      continue;
    }
    const decision = decideChange(old, object, from, to, plan.manualSteps);
    if (decision.recreate) plan.recreated.add(object.key);
    else plan.changes.set(object.key, decision.statements);
  }
}

/** Views that use something dropped or recreated must be dropped first and recreated after. */
function recreateDependants(plan: Planning): void {
  const pending = [...plan.dropped, ...plan.recreated, ...plan.dependencySeeds];
  const seen = new Set(pending);
  while (pending.length > 0) {
    const key = pending.pop() as string;
    for (const dependant of plan.from.catalog.dependants.get(key) ?? []) {
      if (seen.has(dependant)) continue;
      seen.add(dependant);
      pending.push(dependant);
      if (plan.target.byKey.has(dependant)) plan.recreated.add(dependant);
    }
  }
  for (const key of plan.recreated) {
    plan.dropped.add(key);
    plan.changes.delete(key);
  }
}

/** The drop phase, in reverse dump order of the source. */
function dropPhase(plan: Planning, existing: (key: string | undefined) => boolean, swappedIndexes: ReadonlySet<string>): Statement[] {
  const statements: Statement[] = [];
  for (const object of [...plan.from.objects].reverse()) {
    const table = plan.tableChanges.get(object.key);
    if (table) statements.push(...table.drops);
    if (!plan.dropped.has(object.key) || swappedIndexes.has(object.key)) continue;
    const parent = plan.source.parentOf(object);
    if (parent !== undefined && plan.dropped.has(parent)) continue;
    statements.push(...dropStatements(object, plan.source, existing));
  }
  return statements;
}

/**
 * A new partition of an existing table is created as one: CREATE TABLE … PARTITION OF
 * (a plain CREATE TABLE, then ATTACH, would be a table of its own for a moment, and
 * hectic inheritance rejects such a table). By key: the statement for the partition's
 * table, '' for what PARTITION OF makes with it (its attach, its share of the parent's
 * indexes and keys).
 */
function newPartitions(plan: Planning, existing: (key: string | undefined) => boolean): Map<string, string> {
  const { to, source } = plan;
  const partitions = new Map<string, string>();
  for (const object of to.objects) {
    const attach = object.type === 'TABLE ATTACH' && !source.byKey.has(object.key) ? /^ALTER TABLE (?:ONLY )?(\S+) ATTACH PARTITION (\S+) ((?:FOR VALUES|DEFAULT)[\s\S]*);$/.exec(object.sql) : null;
    if (!attach?.[1] || !attach[2] || !attach[3]) continue;
    const tableKey = `TABLE ${object.schema}.${object.name}`;
    if (!existing(source.relation(unquoteQualified(attach[1]))) || source.byKey.has(tableKey)) continue;
    partitions.set(tableKey, `CREATE TABLE ${attach[2]} PARTITION OF ${attach[1]} ${attach[3]};`);
    partitions.set(object.key, '');
  }
  for (const object of to.objects) {
    if (object.type !== 'INDEX ATTACH' || object.schema === null) continue;
    const index = `INDEX ${object.schema}.${object.name}`;
    const table = to.catalog.indexTable.get(index);
    if (table === undefined || !partitions.has(`TABLE ${table}`)) continue;
    const tableName = table.slice(table.indexOf('.') + 1);
    for (const key of [object.key, index, `CONSTRAINT ${object.schema}.${tableName} ${object.name}`]) partitions.set(key, '');
  }
  return partitions;
}

/** The create phase, in dump order of the target. */
function createPhase(plan: Planning, existing: (key: string | undefined) => boolean, swappedIndexes: ReadonlySet<string>): Statement[] {
  const statements: Statement[] = [];
  const partitions = newPartitions(plan, existing);
  for (const object of plan.to.objects) {
    const table = plan.tableChanges.get(object.key);
    const partition = partitions.get(object.key);
    if (table) statements.push(...table.alters);
    else if (partition !== undefined) {
      if (partition) statements.push(statement(partition, 'main', [HAZARD.accessExclusive(unquoteQualified(/ PARTITION OF (\S+)/.exec(partition)?.[1] ?? ''))]));
    } else if (swappedIndexes.has(object.key)) statements.push(...swapIndex(object));
    else statements.push(...createOrChange(plan, object, existing));
  }
  return statements;
}

/** One object of the target that is not a changed table, a new partition or a swapped index. */
function createOrChange(plan: Planning, object: SchemaObject, existing: (key: string | undefined) => boolean): Statement[] {
  const parent = plan.target.parentOf(object);
  const isNew = !plan.source.byKey.has(object.key) || plan.recreated.has(object.key) || (parent !== undefined && plan.recreated.has(parent));
  if (isNew && object.type === 'MATERIALIZED VIEW') {
    const hazard = recomputeHazard(object, plan.from.catalog.tables.get(`${object.schema}.${object.name}`));
    return createStatements(object, false).map((item) => ({ ...item, hazards: [hazard] }));
  }
  if (isNew) {
    if (isIdentitySequence(object) && existing(parent)) return []; // the column's ADD … IDENTITY made it
    return createStatements(object, existing(parent));
  }
  return plan.changes.get(object.key) ?? [];
}

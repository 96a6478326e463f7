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
import { quoteIdent, quoteLiteral } from '../../pg/db.js';
import type { SchemaObject } from '../schema-dump.js';
import type { CatalogInfo, DomainInfo, TableInfo } from './catalog.js';
import { HAZARD, statement, type MigrationPlan, type Statement } from './statement.js';
import { diffTable, type TableChanges } from './table-diff.js';

export interface SchemaSide {
  /** pg_dump objects in dump order. */
  objects: readonly SchemaObject[];
  catalog: CatalogInfo;
}

const ATTACHED_TO_RELATION = new Set(['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT', 'TRIGGER', 'POLICY', 'RULE', 'DEFAULT']);
const RELATION_TYPES = ['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE'];

/** `schema.name` quoted. */
function qualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** `f(integer, text)` → `"schema"."f"(integer, text)`. */
function routineName(object: SchemaObject): string {
  const paren = object.name.indexOf('(');
  return `${qualified(object.schema, object.name.slice(0, paren))}${object.name.slice(paren)}`;
}

/** `orders c1` → ['orders', 'c1'] (pg_dump's tag for objects of a table). */
function splitTag(name: string): [string, string] {
  const space = name.indexOf(' ');
  return space < 0 ? [name, ''] : [name.slice(0, space), name.slice(space + 1)];
}

/** `"app"."Order"` or `app.orders` → `app.orders` (pg_dump quotes only when needed). */
function unquoteQualified(text: string): string {
  return (text.match(/"(?:[^"]|"")*"|[^."]+/g) ?? []).map((part) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part)).join('.');
}

function isIdentitySequence(object: SchemaObject): boolean {
  return object.type === 'SEQUENCE' && object.sql.startsWith('ALTER TABLE ');
}

/** Per side: relation name → its dump key, and owned sequence → its table. */
class SideIndex {
  readonly byKey: Map<string, SchemaObject>;
  private readonly relationKey = new Map<string, string>();
  private readonly sequenceOwner = new Map<string, string>();

  constructor(readonly side: SchemaSide) {
    this.byKey = new Map(side.objects.map((object) => [object.key, object]));
    for (const object of side.objects) {
      if (RELATION_TYPES.includes(object.type) && object.schema !== null) this.relationKey.set(`${object.schema}.${object.name}`, object.key);
      if (object.type === 'SEQUENCE OWNED BY') {
        const owner = /OWNED BY ((?:"(?:[^"]|"")*"|[^.\s"]+)\.(?:"(?:[^"]|"")*"|[^.\s"]+))\./.exec(object.sql);
        if (owner?.[1]) this.sequenceOwner.set(`SEQUENCE ${object.schema}.${object.name}`, unquoteQualified(owner[1]));
      }
    }
  }

  relation(name: string | undefined): string | undefined {
    return name === undefined ? undefined : (this.relationKey.get(name) ?? `TABLE ${name}`);
  }

  /** The object this one belongs to: dropping that drops this one too. */
  parentOf(object: SchemaObject): string | undefined {
    const schema = object.schema;
    if (ATTACHED_TO_RELATION.has(object.type) && schema !== null) return this.relation(`${schema}.${splitTag(object.name)[0]}`);
    if (object.type === 'ROW SECURITY' || object.type === 'TABLE ATTACH') return this.relation(`${schema}.${object.name}`);
    if (object.type === 'INDEX') return this.relation(this.side.catalog.indexTable.get(object.key));
    if (object.type === 'SEQUENCE OWNED BY') return `SEQUENCE ${schema}.${object.name}`;
    if (object.type === 'SEQUENCE') {
      if (isIdentitySequence(object)) {
        const table = /^ALTER TABLE (?:ONLY )?(\S+) ALTER COLUMN/.exec(object.sql)?.[1];
        return table ? this.relation(unquoteQualified(table)) : undefined;
      }
      return this.relation(this.sequenceOwner.get(object.key));
    }
    if (object.type === 'COMMENT' || object.type === 'ACL') return this.commentedObject(object);
    return undefined;
  }

  /** `COMMENT TABLE app.orders` → `TABLE app.orders`; `COMMENT COLUMN app.t.c` → the table. */
  private commentedObject(object: SchemaObject): string | undefined {
    const name = object.type === 'COMMENT' ? object.key.slice('COMMENT '.length) : `${splitTag(object.name)[0]} ${object.schema}.${splitTag(object.name)[1]}`;
    if (object.schema === null) return name;
    if (name.startsWith('COLUMN ')) {
      const path = name.slice('COLUMN '.length);
      return this.relation(path.slice(0, path.lastIndexOf('.')));
    }
    const on = / ON (.+)$/.exec(name);
    if (on?.[1] && /^(?:CONSTRAINT|TRIGGER|POLICY|RULE) /.test(name)) return this.relation(`${object.schema}.${on[1]}`);
    return name;
  }
}

const VIEW_GRANTS = 'its grants go with it: they are recreated only when diff compares privileges (--privileges)';

/** The statements that drop `object` (it exists on the source side only, or is recreated). */
function dropStatements(object: SchemaObject, index: SideIndex, existing: (key: string | undefined) => boolean): Statement[] {
  const name = object.schema === null ? quoteIdent(object.name) : qualified(object.schema, object.name);
  const [table, member] = splitTag(object.name);
  const onTable = object.schema === null ? '' : qualified(object.schema, table);
  switch (object.type) {
    case 'VIEW':
      return [statement(`DROP VIEW ${name}`, 'main', [VIEW_GRANTS])];
    case 'SCHEMA':
    case 'EXTENSION':
    case 'SEQUENCE':
    case 'DOMAIN':
    case 'TYPE':
    case 'EVENT TRIGGER':
    case 'PUBLICATION':
    case 'COLLATION':
      if (isIdentitySequence(object)) return [];
      return [statement(`DROP ${object.type} ${name}`)];
    case 'MATERIALIZED VIEW':
      return [statement(`DROP MATERIALIZED VIEW ${name}`, 'main', [VIEW_GRANTS])];
    case 'TABLE':
      return [statement(`DROP TABLE ${name}`, 'main', [HAZARD.dataLoss(`drops table ${object.schema}.${object.name} and its rows`)])];
    case 'FUNCTION':
    case 'PROCEDURE':
    case 'AGGREGATE':
      return [statement(`DROP ${object.type} ${routineName(object)}`)];
    case 'CONSTRAINT':
    case 'FK CONSTRAINT':
    case 'CHECK CONSTRAINT':
      return [statement(`ALTER TABLE ${onTable} DROP CONSTRAINT ${quoteIdent(member)}`, 'main', [HAZARD.accessExclusive(`${object.schema}.${table}`)])];
    case 'DEFAULT':
      return [statement(`ALTER TABLE ${onTable} ALTER COLUMN ${quoteIdent(member)} DROP DEFAULT`, 'main', [HAZARD.accessExclusive(`${object.schema}.${table}`)])];
    case 'POLICY':
      return [statement(`DROP POLICY ${quoteIdent(member)} ON ${onTable}`, 'main', existing(index.parentOf(object)) ? [HAZARD.accessExclusive(`${object.schema}.${table}`)] : [])];
    case 'TRIGGER':
    case 'RULE':
      return [statement(`DROP ${object.type} ${quoteIdent(member)} ON ${onTable}`)];
    case 'INDEX': {
      const parent = index.parentOf(object);
      return existing(parent)
        ? [statement(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`, 'after')]
        : [statement(`DROP INDEX ${name}`)];
    }
    case 'SEQUENCE OWNED BY':
      return [statement(`ALTER SEQUENCE ${name} OWNED BY NONE`)];
    case 'ROW SECURITY':
      return [statement(object.sql.replace(/\bENABLE ROW LEVEL SECURITY/g, 'DISABLE ROW LEVEL SECURITY').replace(/\bFORCE ROW LEVEL SECURITY/g, 'NO FORCE ROW LEVEL SECURITY'), 'main', [HAZARD.accessExclusive(`${object.schema}.${object.name}`)])];
    case 'TABLE ATTACH': {
      const attach = /^ALTER TABLE (?:ONLY )?(\S+) ATTACH PARTITION (\S+)/.exec(object.sql);
      if (!attach) break;
      return [statement(`ALTER TABLE ${attach[1]} DETACH PARTITION ${attach[2]}`, 'main', [HAZARD.accessExclusive(unquoteQualified(attach[1] ?? ''))])];
    }
    case 'COMMENT': {
      const on = /^(COMMENT ON [\s\S]*? IS )/.exec(object.sql);
      if (!on?.[1]) break;
      return [statement(`${on[1]}NULL`)];
    }
    case 'ACL':
    case 'DEFAULT ACL':
      return revokeStatements(object.sql);
  }
  return [];
}

/** The inverse of pg_dump's GRANT/REVOKE lines for an object. */
export function revokeStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  for (const line of grantLines(sql)) {
    // `ALTER DEFAULT PRIVILEGES … GRANT …` (default privileges) turns around the same way.
    const grant = /^((?:ALTER DEFAULT PRIVILEGES .*? )?)GRANT (.+) TO (.+?)(?: WITH GRANT OPTION)?;$/.exec(line);
    const revoke = /^((?:ALTER DEFAULT PRIVILEGES .*? )?)REVOKE (.+) FROM (.+);$/.exec(line);
    if (grant) out.push(statement(`${grant[1]}REVOKE ${grant[2]} FROM ${grant[3]}`));
    else if (revoke) out.push(statement(`${revoke[1]}GRANT ${revoke[2]} TO ${revoke[3]}`));
  }
  return out;
}

/** Where owners are masked (never compared), grant lines naming the owner cannot be run. */
const OWNER_MASK = '<owner>';

function grantLines(sql: string): string[] {
  return sql.split('\n').filter((line) => line.trim() !== '' && !line.includes(OWNER_MASK));
}

/** Per-statement split of pg_dump text (one object may hold several statements, e.g. GRANTs). */
function createStatements(object: SchemaObject, parentExists: boolean): Statement[] {
  const sql = object.sql.trim();
  const parentName = (): string => (object.schema === null ? object.name : `${object.schema}.${splitTag(object.name)[0]}`);
  switch (object.type) {
    case 'MATERIALIZED VIEW':
      return [statement(sql.replace(/\n\s*WITH NO DATA;$/, '\n  WITH DATA;'))];
    case 'INDEX':
      return parentExists ? [statement(sql.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX CONCURRENTLY '), 'after')] : [statement(sql)];
    case 'FK CONSTRAINT': {
      if (!parentExists || /NOT VALID;$/.test(sql)) return [statement(sql)];
      const [table, name] = splitTag(object.name);
      return [
        statement(sql.replace(/;$/, ' NOT VALID;')),
        statement(`ALTER TABLE ${qualified(object.schema, table)} VALIDATE CONSTRAINT ${quoteIdent(name)}`, 'validate'),
      ];
    }
    case 'CONSTRAINT':
      return [statement(sql, 'main', parentExists ? [HAZARD.accessExclusive(parentName()) + ' while it builds the index'] : [])];
    case 'POLICY':
    case 'ROW SECURITY':
      return [statement(sql, 'main', parentExists ? [HAZARD.accessExclusive(object.type === 'POLICY' ? parentName() : `${object.schema}.${object.name}`)] : [])];
    case 'ACL':
    case 'DEFAULT ACL':
      return grantLines(sql).map((line) => statement(line));
    case 'TABLE ATTACH':
      return [statement(sql, 'main', parentExists ? [`scans the partition ${object.schema}.${object.name} to check its bound under an ACCESS EXCLUSIVE lock on it`] : [])];
    default:
      return [statement(sql)];
  }
}

/**
 * A changed index of a table that stays: the new definition is built CONCURRENTLY under
 * a temporary name, then the old one is dropped CONCURRENTLY and the new one renamed.
 * The table is never without the index, and a build that fails leaves the old one in place.
 */
function swapIndex(object: SchemaObject): Statement[] {
  const temporary = `${object.name.slice(0, 59)}_new`;
  const schema = object.schema === null ? '' : `${quoteIdent(object.schema)}.`;
  const create = object.sql.trim().replace(/^CREATE (UNIQUE )?INDEX (?:"(?:[^"]|"")*"|\S+) ON /, `CREATE $1INDEX CONCURRENTLY ${quoteIdent(temporary)} ON `);
  return [
    statement(create, 'after'),
    statement(`DROP INDEX CONCURRENTLY ${schema}${quoteIdent(object.name)}`, 'after'),
    statement(`ALTER INDEX ${schema}${quoteIdent(temporary)} RENAME TO ${quoteIdent(object.name)}`, 'after'),
  ];
}

/** What creating a materialized view WITH DATA costs: its query runs in full, inside the migration. */
function recomputeHazard(object: SchemaObject, before: TableInfo | undefined): string {
  const name = `${object.schema}.${object.name}`;
  const size = before ? ` (on DB1 it held about ${Math.round(before.rowEstimate)} rows, ${Math.round(before.bytes / 1024)} kB)` : '';
  return `recomputes ${name} WITH DATA: its whole query runs inside the migration${size}, and the view stays locked until the migration commits`;
}

/** The text of a routine up to its body options: if equal, CREATE OR REPLACE can change it. */
function routineHeader(sql: string): string {
  return sql.split(/\n\s+(?:LANGUAGE|AS|BEGIN ATOMIC)\b/)[0] ?? sql;
}

function enumChanges(object: SchemaObject, from: readonly string[], to: readonly string[], manual: string[]): Statement[] {
  const name = qualified(object.schema, object.name);
  const removed = from.filter((label) => !to.includes(label));
  const kept = to.filter((label) => from.includes(label));
  if (removed.length > 0 || kept.join('\0') !== from.join('\0')) {
    manual.push(
      `enum ${object.schema}.${object.name}: ${removed.length > 0 ? `values ${removed.map(quoteLiteral).join(', ')} removed` : 'values reordered'}; ` +
        'PostgreSQL cannot remove an enum value: create the new type, move every column using it (rewriting rows that hold a removed value), drop the old one',
    );
    return [];
  }
  const current = [...from];
  const out: Statement[] = [];
  to.forEach((label, i) => {
    if (current.includes(label)) return;
    const position = i === 0 ? `BEFORE ${quoteLiteral(to[1] ?? '')}` : `AFTER ${quoteLiteral(to[i - 1] ?? '')}`;
    out.push(statement(`ALTER TYPE ${name} ADD VALUE ${quoteLiteral(label)} ${position}`, 'before'));
    current.splice(i, 0, label);
  });
  return out;
}

function compositeChanges(object: SchemaObject, from: TableInfo['allColumns'], to: TableInfo['allColumns']): Statement[] {
  const name = qualified(object.schema, object.name);
  const before = new Map(from.map((a) => [a.name, a.type]));
  const after = new Map(to.map((a) => [a.name, a.type]));
  const out: Statement[] = [];
  for (const [attribute] of before) if (!after.has(attribute)) out.push(statement(`ALTER TYPE ${name} DROP ATTRIBUTE ${quoteIdent(attribute)}`, 'main', [HAZARD.dataLoss(`drops attribute ${attribute}`)]));
  for (const [attribute, type] of after) {
    if (!before.has(attribute)) out.push(statement(`ALTER TYPE ${name} ADD ATTRIBUTE ${quoteIdent(attribute)} ${type}`));
    else if (before.get(attribute) !== type) out.push(statement(`ALTER TYPE ${name} ALTER ATTRIBUTE ${quoteIdent(attribute)} TYPE ${type}`));
  }
  return out;
}

function domainChanges(from: DomainInfo, to: DomainInfo): Statement[] {
  const before = new Map(from.constraints.map((c) => [c.name, c.definition]));
  const after = new Map(to.constraints.map((c) => [c.name, c.definition]));
  const out: Statement[] = [];
  for (const [constraint, definition] of before) {
    if (after.get(constraint) !== definition) out.push(statement(`ALTER DOMAIN ${to.sqlName} DROP CONSTRAINT ${quoteIdent(constraint)}`));
  }
  for (const [constraint, definition] of after) {
    if (before.get(constraint) === definition) continue;
    out.push(statement(`ALTER DOMAIN ${to.sqlName} ADD CONSTRAINT ${quoteIdent(constraint)} ${definition} NOT VALID`));
    out.push(statement(`ALTER DOMAIN ${to.sqlName} VALIDATE CONSTRAINT ${quoteIdent(constraint)}`, 'validate'));
  }
  return out;
}

type ChangeDecision = { recreate: true } | { recreate: false; statements: Statement[] };

/** How a changed object (present on both sides, text differs) is brought over. */
function decideChange(from: SchemaObject, to: SchemaObject, fromSide: SchemaSide, toSide: SchemaSide, manual: string[]): ChangeDecision {
  const keep = (statements: Statement[]): ChangeDecision => ({ recreate: false, statements });
  const relation = `${to.schema}.${to.name}`;
  switch (to.type) {
    case 'FUNCTION':
    case 'PROCEDURE':
      if (routineHeader(from.sql) !== routineHeader(to.sql)) return { recreate: true };
      return keep([statement(to.sql.replace(/^CREATE (FUNCTION|PROCEDURE) /, 'CREATE OR REPLACE $1 '))]);
    case 'VIEW': {
      const before = fromSide.catalog.tables.get(relation)?.allColumns ?? [];
      const after = toSide.catalog.tables.get(relation)?.allColumns ?? [];
      const prefix = before.length <= after.length && before.every((column, i) => column.name === after[i]?.name && column.type === after[i]?.type);
      return prefix ? keep([statement(to.sql.replace(/^CREATE VIEW /, 'CREATE OR REPLACE VIEW '))]) : { recreate: true };
    }
    case 'SEQUENCE': {
      const options = (sql: string): string | undefined =>
        sql.startsWith('CREATE SEQUENCE ')
          ? sql.replace(/^CREATE SEQUENCE /, 'ALTER SEQUENCE ')
          : /SEQUENCE NAME (\S+)\n([\s\S]*)\n\);$/.exec(sql)?.slice(1, 3).join('\n');
      // SET LOGGED/UNLOGGED of a table changes the sequences it owns with it.
      const persistence = (sql: string): string => sql.replace(/^CREATE UNLOGGED SEQUENCE /, 'CREATE SEQUENCE ');
      if (from.sql !== to.sql && persistence(from.sql) === persistence(to.sql)) {
        const owned = toSide.objects.some((object) => object.type === 'SEQUENCE OWNED BY' && object.schema === to.schema && object.name === to.name);
        const logged = to.sql.startsWith('CREATE UNLOGGED SEQUENCE ') ? 'UNLOGGED' : 'LOGGED';
        return keep(owned ? [] : [statement(`ALTER SEQUENCE ${qualified(to.schema, to.name)} SET ${logged}`)]);
      }
      const after = options(to.sql);
      if (!after || isIdentitySequence(from) !== isIdentitySequence(to)) return { recreate: true };
      return keep([statement(isIdentitySequence(to) ? `ALTER SEQUENCE ${after}` : after)]);
    }
    case 'TYPE': {
      const enumFrom = fromSide.catalog.enums.get(relation);
      const enumTo = toSide.catalog.enums.get(relation);
      if (enumFrom && enumTo) return keep(enumChanges(to, enumFrom, enumTo, manual));
      const compositeFrom = fromSide.catalog.composites.get(relation);
      const compositeTo = toSide.catalog.composites.get(relation);
      if (compositeFrom && compositeTo) return keep(compositeChanges(to, compositeFrom, compositeTo));
      return { recreate: true };
    }
    case 'DOMAIN': {
      const before = fromSide.catalog.domains.get(relation);
      const after = toSide.catalog.domains.get(relation);
      if (!before || !after) return { recreate: true };
      return keep(domainChanges(before, after));
    }
    case 'SEQUENCE OWNED BY':
    case 'DEFAULT':
    case 'COMMENT':
    case 'ROW SECURITY':
      return keep([statement(to.sql)]);
    case 'SCHEMA':
    case 'EXTENSION':
      manual.push(`${to.key} differs (${to.type === 'EXTENSION' ? 'its schema' : 'its definition'}): change it by hand`);
      return keep([]);
    default:
      return { recreate: true };
  }
}

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

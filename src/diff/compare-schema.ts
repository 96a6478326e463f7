/**
 * Compares two schemas object by object: which objects exist only on one side, and
 * which exist on both with different SQL. Pure.
 */
import type { SchemaObject } from './schema-dump.js';

export interface ChangedObject {
  key: string;
  type: string;
  schema: string | null;
  name: string;
  db1: string;
  db2: string;
}

export interface SchemaComparison {
  onlyInDb1: SchemaObject[];
  onlyInDb2: SchemaObject[];
  changed: ChangedObject[];
  /** Objects present and equal on both sides. */
  identical: number;
}

/** Report order: by schema (objects outside a schema first), then name, then type. */
export function compareObjects(a: Pick<SchemaObject, 'schema' | 'name' | 'type'>, b: Pick<SchemaObject, 'schema' | 'name' | 'type'>): number {
  const schemaA = a.schema ?? '';
  const schemaB = b.schema ?? '';
  if (schemaA !== schemaB) return schemaA < schemaB ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return 0;
}

/**
 * Compares two schemas as splitDump gives them: each key at most once per side. DB2's
 * objects are taken out of one map as DB1's find them, so what is left is only in DB2 —
 * one hash table for the comparison instead of one per side.
 */
export function compareSchemas(db1: readonly SchemaObject[], db2: readonly SchemaObject[]): SchemaComparison {
  const unmatched = new Map<string, SchemaObject>();
  for (const object of db2) unmatched.set(object.key, object);
  const result: SchemaComparison = { onlyInDb1: [], onlyInDb2: [], changed: [], identical: 0 };
  for (const object of db1) {
    const other = unmatched.get(object.key);
    if (!other) {
      result.onlyInDb1.push(object);
      continue;
    }
    unmatched.delete(object.key);
    if (other.sql === object.sql) result.identical += 1;
    else result.changed.push({ key: object.key, type: object.type, schema: object.schema, name: object.name, db1: object.sql, db2: other.sql });
  }
  for (const object of unmatched.values()) result.onlyInDb2.push(object);
  result.onlyInDb1.sort(compareObjects);
  result.onlyInDb2.sort(compareObjects);
  result.changed.sort(compareObjects);
  return result;
}

export function schemasDiffer(comparison: SchemaComparison): boolean {
  return comparison.onlyInDb1.length + comparison.onlyInDb2.length + comparison.changed.length > 0;
}

/**
 * Compares two schemas object by object: which objects exist only on one side, and
 * which exist on both with different SQL. Pure.
 */
import { mergeRepeatedKeys, type SchemaObject } from './schema-dump.js';

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
  /** DB1's entries whose key is on both sides with the same text (each entry of a repeated key counts). */
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
 * Compares two schemas as splitDump gives them, in dump order. pg_dump writes the objects
 * of two like schemas in one order, so `keysOutOfStep` walks both lists side by side and
 * finds the few keys that differ. Only those are compared by key, their repeated entries
 * merged. A hash table of every object, on each side, made the comparison grow faster than
 * the schema: it outgrew the CPU's caches (issue 22 §3).
 *
 * `identical` counts DB1's entries whose key is on both sides with the same text.
 */
export function compareSchemas(db1: readonly SchemaObject[], db2: readonly SchemaObject[]): SchemaComparison {
  const suspects = keysOutOfStep(db1, db2);
  const suspect1 = db1.filter((object) => suspects.has(object.key));
  const suspect2 = db2.filter((object) => suspects.has(object.key));
  const { onlyInDb1, onlyInDb2, changed } = compareByKey(mergeRepeatedKeys(suspect1), mergeRepeatedKeys(suspect2));
  const differing = new Set([...onlyInDb1, ...changed].map((object) => object.key));
  return {
    onlyInDb1: onlyInDb1.sort(compareObjects),
    onlyInDb2: onlyInDb2.sort(compareObjects),
    changed: changed.sort(compareObjects),
    identical: db1.length - suspect1.filter((object) => differing.has(object.key)).length,
  };
}

/**
 * The keys whose entries do not pair up with equal text, walking both lists side by side:
 * an entry meets its counterpart at the same step, or waits until the counterpart comes.
 * The waiting tables hold only the entries between a difference and where the lists fall
 * back into step. A key that comes twice on one side is a suspect too: pairing its entries
 * by order could match the wrong ones.
 */
function keysOutOfStep(db1: readonly SchemaObject[], db2: readonly SchemaObject[]): Set<string> {
  const suspects = new Set<string>();
  const waiting1 = new Map<string, SchemaObject>();
  const waiting2 = new Map<string, SchemaObject>();
  const pair = (object1: SchemaObject, object2: SchemaObject): void => {
    if (object1.sql !== object2.sql) suspects.add(object1.key);
  };
  const arrive = (object: SchemaObject, ownSide: Map<string, SchemaObject>, otherSide: Map<string, SchemaObject>): void => {
    const counterpart = otherSide.get(object.key);
    if (counterpart !== undefined) {
      otherSide.delete(object.key);
      pair(object, counterpart);
    } else {
      if (ownSide.has(object.key)) suspects.add(object.key);
      ownSide.set(object.key, object);
    }
  };
  for (let step = 0; step < Math.max(db1.length, db2.length); step += 1) {
    const object1 = db1[step];
    const object2 = db2[step];
    if (object1 && object2 && object1.key === object2.key) {
      pair(object1, object2);
      continue;
    }
    if (object1) arrive(object1, waiting1, waiting2);
    if (object2) arrive(object2, waiting2, waiting1);
  }
  for (const key of [...waiting1.keys(), ...waiting2.keys()]) suspects.add(key);
  return suspects;
}

/** What differs between two lists with each key at most once per side. */
function compareByKey(db1: readonly SchemaObject[], db2: readonly SchemaObject[]): Omit<SchemaComparison, 'identical'> {
  const unmatched = new Map(db2.map((object) => [object.key, object]));
  const result: Omit<SchemaComparison, 'identical'> = { onlyInDb1: [], onlyInDb2: [], changed: [] };
  for (const object of db1) {
    const other = unmatched.get(object.key);
    if (!other) {
      result.onlyInDb1.push(object);
      continue;
    }
    unmatched.delete(object.key);
    if (other.sql !== object.sql) result.changed.push({ key: object.key, type: object.type, schema: object.schema, name: object.name, db1: object.sql, db2: other.sql });
  }
  result.onlyInDb2.push(...unmatched.values());
  return result;
}

export function schemasDiffer(comparison: SchemaComparison): boolean {
  return comparison.onlyInDb1.length + comparison.onlyInDb2.length + comparison.changed.length > 0;
}

/**
 * One side of a schema comparison for the migration writer: pg_dump's objects in dump
 * order with their catalog, an index of them by key and by relation, and how their
 * names are written in SQL.
 */
import { quoteIdent } from '../../pg/db.js';
import type { SchemaObject } from '../schema-dump.js';
import type { CatalogInfo } from './catalog.js';

export interface SchemaSide {
  /** pg_dump objects in dump order. */
  objects: readonly SchemaObject[];
  catalog: CatalogInfo;
}

const ATTACHED_TO_RELATION = new Set(['CONSTRAINT', 'FK CONSTRAINT', 'CHECK CONSTRAINT', 'TRIGGER', 'POLICY', 'RULE', 'DEFAULT']);

const RELATION_TYPES = ['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE'];

/** `schema.name` quoted. */
export function qualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** `f(integer, text)` → `"schema"."f"(integer, text)`. */
export function routineName(object: SchemaObject): string {
  const paren = object.name.indexOf('(');
  return `${qualified(object.schema, object.name.slice(0, paren))}${object.name.slice(paren)}`;
}

/** `orders c1` → ['orders', 'c1'] (pg_dump's tag for objects of a table). */
export function splitTag(name: string): [string, string] {
  const space = name.indexOf(' ');
  return space < 0 ? [name, ''] : [name.slice(0, space), name.slice(space + 1)];
}

/** `"app"."Order"` or `app.orders` → `app.orders` (pg_dump quotes only when needed). */
export function unquoteQualified(text: string): string {
  return (text.match(/"(?:[^"]|"")*"|[^."]+/g) ?? []).map((part) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part)).join('.');
}

export function isIdentitySequence(object: SchemaObject): boolean {
  return object.type === 'SEQUENCE' && object.sql.startsWith('ALTER TABLE ');
}

/** Per side: relation name → its dump key, and owned sequence → its table. */
export class SideIndex {
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

/**
 * How an object present on both sides whose text differs is brought over: changed in
 * place (CREATE OR REPLACE, ALTER SEQUENCE, ALTER TYPE … ADD VALUE, ALTER DOMAIN …) or
 * recreated.
 */
import { quoteIdent, quoteLiteral } from '../../pg/db.js';
import type { SchemaObject } from '../schema-dump.js';
import type { DomainInfo, TableInfo } from './catalog.js';
import { HAZARD, statement, type Statement } from './statement.js';
import { SchemaSide, qualified, isIdentitySequence } from './schema-side.js';

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
export function decideChange(from: SchemaObject, to: SchemaObject, fromSide: SchemaSide, toSide: SchemaSide, manual: string[]): ChangeDecision {
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

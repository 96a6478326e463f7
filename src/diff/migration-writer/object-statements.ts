/**
 * The statements that drop or create one pg_dump object, revoke or grant its privileges,
 * or swap in a changed index beside the old one.
 */
import { quoteIdent } from '../../pg/db.js';
import type { SchemaObject } from '../schema-dump.js';
import type { TableInfo } from './catalog.js';
import { HAZARD, statement, type Statement } from './statement.js';
import { qualified, routineName, splitTag, unquoteQualified, isIdentitySequence, SideIndex } from './schema-side.js';

const VIEW_GRANTS = 'its grants go with it: they are recreated only when diff compares privileges (--privileges)';

/** The statements that drop `object` (it exists on the source side only, or is recreated). */
export function dropStatements(object: SchemaObject, index: SideIndex, existing: (key: string | undefined) => boolean): Statement[] {
  const name = object.schema === null ? quoteIdent(object.name) : qualified(object.schema, object.name);
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
    case 'DEFAULT':
    case 'POLICY':
    case 'TRIGGER':
    case 'RULE':
      return dropTableMember(object, index, existing);
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

/** The statements that drop a constraint, default, policy, trigger or rule of a table (pg_dump's tag: `table member`). */
function dropTableMember(object: SchemaObject, index: SideIndex, existing: (key: string | undefined) => boolean): Statement[] {
  const [table, member] = splitTag(object.name);
  const onTable = object.schema === null ? '' : qualified(object.schema, table);
  switch (object.type) {
    case 'DEFAULT':
      return [statement(`ALTER TABLE ${onTable} ALTER COLUMN ${quoteIdent(member)} DROP DEFAULT`, 'main', [HAZARD.accessExclusive(`${object.schema}.${table}`)])];
    case 'POLICY':
      return [statement(`DROP POLICY ${quoteIdent(member)} ON ${onTable}`, 'main', existing(index.parentOf(object)) ? [HAZARD.accessExclusive(`${object.schema}.${table}`)] : [])];
    case 'TRIGGER':
    case 'RULE':
      return [statement(`DROP ${object.type} ${quoteIdent(member)} ON ${onTable}`)];
    default:
      return [statement(`ALTER TABLE ${onTable} DROP CONSTRAINT ${quoteIdent(member)}`, 'main', [HAZARD.accessExclusive(`${object.schema}.${table}`)])];
  }
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
export const OWNER_MASK = '<owner>';

function grantLines(sql: string): string[] {
  return sql.split('\n').filter((line) => line.trim() !== '' && !line.includes(OWNER_MASK));
}

/** Per-statement split of pg_dump text (one object may hold several statements, e.g. GRANTs). */
export function createStatements(object: SchemaObject, parentExists: boolean): Statement[] {
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
export function swapIndex(object: SchemaObject): Statement[] {
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
export function recomputeHazard(object: SchemaObject, before: TableInfo | undefined): string {
  const name = `${object.schema}.${object.name}`;
  const size = before ? ` (on DB1 it held about ${Math.round(before.rowEstimate)} rows, ${Math.round(before.bytes / 1024)} kB)` : '';
  return `recomputes ${name} WITH DATA: its whole query runs inside the migration${size}, and the view stays locked until the migration commits`;
}

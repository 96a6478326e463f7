/**
 * What each statement of a migration does to a live database — the locks it takes on
 * existing relations (pg_locks mode names, as the rehearsal reads them), the tables it
 * rewrites — and the findings of the rules (rules.ts) about it. A relation created in
 * the same migration is new: locking or rewriting it blocks nobody.
 *
 * Knowledge carried from one migration to the next (column types, enum values) comes
 * from the database for pending migrations, and from the statements themselves.
 */
import type { Node, RangeVar } from 'libpg-query';
import type { SqlStatement } from './sql-parser.js';
import { bareName, columnTypeOf, names, relationName, stringConstant } from './syntax.js';
import { AlterTableWalk } from './alter-table-walk.js';
import type { AnalyzedStatement, SchemaKnowledge } from './walk-state.js';


/** The walk over one migration's statements. */
class MigrationWalk extends AlterTableWalk {
  analyze(statement: SqlStatement): AnalyzedStatement {
    this.claims = { locks: [], rewrites: [] };
    this.findings = [];
    this.exclusiveOnIndexTable = false;
    this.visit(statement.node);
    const exclusive = this.claims.locks.filter((lock) => lock.mode === 'AccessExclusiveLock').map((lock) => lock.relation);
    // Flagged once per migration: one SET at the top is the fix for every statement.
    if ((exclusive.length > 0 || this.exclusiveOnIndexTable) && !this.lockTimeout && !this.localLockTimeout && !this.lockTimeoutFlagged) {
      const on = exclusive.length > 0 ? [...new Set(exclusive)].join(', ') : "the index's table";
      this.flag('lock-timeout', `takes ACCESS EXCLUSIVE on ${on} and no lock_timeout is set before it in this migration (later statements are not flagged again)`);
      this.lockTimeoutFlagged = true;
    }
    return { statement, claims: this.claims, findings: this.findings };
  }

  private visit(node: Node): void {
    if ('AlterTableStmt' in node) this.alterTable(node.AlterTableStmt);
    else if ('RenameStmt' in node) this.rename(node.RenameStmt);
    else if ('DropStmt' in node) this.drop(node.DropStmt);
    else if ('TruncateStmt' in node) {
      for (const item of node.TruncateStmt.relations ?? []) {
        if (!('RangeVar' in item)) continue;
        const table = relationName(item.RangeVar);
        this.lock(table, 'AccessExclusiveLock');
        this.rewrite(table);
        if (this.isExisting(table)) this.flag('data-loss', `TRUNCATE ${table} deletes every row`);
      }
    } else if ('IndexStmt' in node) this.createIndex(node.IndexStmt);
    else if ('ReindexStmt' in node) this.reindex(node.ReindexStmt);
    else if ('CreateStmt' in node) this.createTable(node.CreateStmt.relation, node.CreateStmt.tableElts);
    else if ('CreateTableAsStmt' in node) {
      const into = node.CreateTableAsStmt.into?.rel;
      if (into) this.created.add(bareName(relationName(into)));
    } else if ('CreateTrigStmt' in node) {
      if (node.CreateTrigStmt.relation) this.lock(relationName(node.CreateTrigStmt.relation), 'ShareRowExclusiveLock');
    } else if ('CreatePolicyStmt' in node) {
      if (node.CreatePolicyStmt.table) this.lock(relationName(node.CreatePolicyStmt.table), 'AccessExclusiveLock');
    } else if ('AlterPolicyStmt' in node) {
      if (node.AlterPolicyStmt.table) this.lock(relationName(node.AlterPolicyStmt.table), 'AccessExclusiveLock');
    } else if ('VacuumStmt' in node) this.vacuum(node.VacuumStmt);
    else if ('ClusterStmt' in node) {
      const relation = node.ClusterStmt.relation;
      if (relation) this.fullRewrite(relationName(relation), 'CLUSTER');
    } else if ('RefreshMatViewStmt' in node) {
      const view = relationName(node.RefreshMatViewStmt.relation);
      if (node.RefreshMatViewStmt.concurrent) this.lock(view, 'ExclusiveLock');
      else {
        this.lock(view, 'AccessExclusiveLock');
        this.rewrite(view);
      }
    } else if ('CreateEnumStmt' in node) {
      this.knowledge.enums.set(bareName(names(node.CreateEnumStmt.typeName).join('.')), names(node.CreateEnumStmt.vals));
    } else if ('AlterEnumStmt' in node) {
      const type = bareName(names(node.AlterEnumStmt.typeName).join('.'));
      const value = node.AlterEnumStmt.newVal;
      if (value && !node.AlterEnumStmt.oldVal) this.knowledge.enums.set(type, [...(this.knowledge.enums.get(type) ?? []), value]);
    } else if ('TransactionStmt' in node) this.transaction(node.TransactionStmt.kind ?? '');
    else if ('VariableSetStmt' in node) {
      const set = node.VariableSetStmt;
      if (set.name === 'lock_timeout') this.setLockTimeout(set.kind === 'VAR_SET_VALUE' ? settingValue(set.args?.[0]) : '0', Boolean(set.is_local));
    } else if ('SelectStmt' in node) this.setConfigCalls(node);
    else if ('DeleteStmt' in node) {
      if (node.DeleteStmt.relation?.relname === 'pg_enum') this.flag('enum-value-removal', 'deletes from pg_enum: rows holding the removed values become unreadable');
    }
  }

  private setConfigCalls(node: Node): void {
    const select = 'SelectStmt' in node ? node.SelectStmt : undefined;
    for (const target of select?.targetList ?? []) {
      const value = 'ResTarget' in target ? target.ResTarget.val : undefined;
      if (!value || !('FuncCall' in value)) continue;
      const call = value.FuncCall;
      if (bareName(names(call.funcname).join('.')) !== 'set_config' || stringConstant(call.args?.[0]) !== 'lock_timeout') continue;
      const local = call.args?.[2];
      this.setLockTimeout(settingValue(call.args?.[1]), Boolean(local && 'A_Const' in local && local.A_Const.boolval?.boolval));
    }
  }

  private setLockTimeout(value: string | undefined, local: boolean): void {
    const on = value !== undefined && !/^0+(?:\s*[a-z]+)?$/i.test(value.trim());
    // SET LOCAL outside a transaction block lasts for nothing.
    if (local) this.localLockTimeout = on && this.inTransaction;
    else this.lockTimeout = on;
  }

  private transaction(kind: string): void {
    if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') {
      if (this.noTransaction) {
        this.inTransaction = true;
        this.explicitBlock = true;
      }
    } else if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') {
      if (!this.noTransaction) {
        this.flag('transaction-control', `${kind === 'TRANS_STMT_COMMIT' ? 'COMMIT' : 'ROLLBACK'} ends the transaction the migration runs in`);
      } else if (this.explicitBlock) {
        this.explicitBlock = false;
        this.inTransaction = false;
        this.localLockTimeout = false;
      }
    }
  }

  private createTable(relation: RangeVar | undefined, elements: readonly Node[] | undefined): void {
    const table = bareName(relationName(relation));
    this.created.add(table);
    for (const element of elements ?? []) {
      if (!('ColumnDef' in element) || !element.ColumnDef.colname) continue;
      const type = columnTypeOf(element.ColumnDef.typeName);
      if (type) this.knowledge.columns.set(`${table}.${element.ColumnDef.colname}`, type);
    }
  }

  private createIndex(index: { relation?: RangeVar; concurrent?: boolean; idxname?: string; unique?: boolean }): void {
    const table = relationName(index.relation);
    if (index.idxname) this.created.add(index.idxname);
    if (index.concurrent) {
      this.lock(table, 'ShareUpdateExclusiveLock');
      if (this.inTransaction) this.flag('concurrently-in-transaction', `CREATE INDEX CONCURRENTLY on ${table} inside the migration's transaction`);
      return;
    }
    this.lock(table, 'ShareLock');
    if (this.isExisting(table)) {
      this.flag('index-concurrently', `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX on ${table} blocks its writes (SHARE lock) for the whole build`, `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY …, in a migration whose first line is -- db-tool: no-transaction`);
    }
  }

  private reindex(reindex: { relation?: RangeVar; params?: Node[]; kind?: string }): void {
    const concurrently = (reindex.params ?? []).some((param) => 'DefElem' in param && param.DefElem.defname === 'concurrently');
    if (concurrently) {
      if (this.inTransaction) this.flag('concurrently-in-transaction', "REINDEX CONCURRENTLY inside the migration's transaction");
      return;
    }
    if (reindex.kind === 'REINDEX_OBJECT_TABLE' && reindex.relation) this.lock(relationName(reindex.relation), 'ShareLock');
    if (!reindex.relation || this.isExisting(relationName(reindex.relation))) this.flag('index-concurrently', 'REINDEX without CONCURRENTLY blocks writes (and reads using the index) until it is done', 'REINDEX … CONCURRENTLY, in a migration whose first line is -- db-tool: no-transaction');
  }

  private vacuum(vacuum: { options?: Node[]; rels?: Node[] }): void {
    if (!(vacuum.options ?? []).some((option) => 'DefElem' in option && option.DefElem.defname === 'full')) return;
    for (const item of vacuum.rels ?? []) {
      if ('VacuumRelation' in item && item.VacuumRelation.relation) this.fullRewrite(relationName(item.VacuumRelation.relation), 'VACUUM FULL');
    }
  }

  private fullRewrite(table: string, what: string): void {
    this.lock(table, 'AccessExclusiveLock');
    this.rewrite(table);
    if (this.isExisting(table)) this.flag('table-rewrite', `${what} rewrites ${table}`, 'pg_repack, or a maintenance window');
  }

  private drop(drop: { removeType?: string; objects?: Node[]; concurrent?: boolean }): void {
    const objects = (drop.objects ?? []).map((object) => ('List' in object ? names(object.List.items) : 'TypeName' in object ? names(object.TypeName.names) : 'String' in object ? names([object]) : []));
    switch (drop.removeType) {
      case 'OBJECT_TABLE':
        for (const parts of objects) {
          const table = parts.join('.');
          this.lock(table, 'AccessExclusiveLock');
          if (this.isExisting(table)) this.flag('data-loss', `DROP TABLE ${table} deletes the table and its rows`);
        }
        return;
      case 'OBJECT_INDEX':
        for (const parts of objects) {
          const index = parts.join('.');
          if (drop.concurrent) {
            if (this.inTransaction) this.flag('concurrently-in-transaction', `DROP INDEX CONCURRENTLY ${index} inside the migration's transaction`);
          } else if (this.isExisting(index)) {
            this.exclusiveOnIndexTable = true;
            this.flag('index-concurrently', `DROP INDEX ${index} takes ACCESS EXCLUSIVE on its table`, `DROP INDEX CONCURRENTLY ${index}, in a migration whose first line is -- db-tool: no-transaction`);
          }
        }
        return;
      case 'OBJECT_TYPE':
        for (const parts of objects) {
          const type = bareName(parts.join('.'));
          if (this.knowledge.enums.has(type) || this.recreatedEnums.has(type)) {
            this.flag('enum-value-removal', `DROP TYPE ${parts.join('.')} drops an enum${this.recreatedEnums.has(type) ? ' to recreate it' : ''}: ${this.removedValues(type)}`);
            this.knowledge.enums.delete(type);
          }
        }
        return;
      case 'OBJECT_POLICY':
        for (const parts of objects) if (parts.length > 1) this.lock(parts.slice(0, -1).join('.'), 'AccessExclusiveLock');
        return;
      default:
    }
  }

  private removedValues(type: string): string {
    const values = this.knowledge.enums.get(type);
    return values ? `its values ${values.map((value) => `'${value}'`).join(', ')} go with it, and rows using them fail the conversion` : 'rows using removed values fail the conversion';
  }

  private rename(rename: { renameType?: string; relationType?: string; relation?: RangeVar; subname?: string; newname?: string; object?: Node }): void {
    const table = relationName(rename.relation);
    switch (rename.renameType) {
      case 'OBJECT_TABLE':
      case 'OBJECT_VIEW':
      case 'OBJECT_MATVIEW':
        this.lock(table, 'AccessExclusiveLock');
        if (this.isExisting(table)) {
          const kind = rename.renameType === 'OBJECT_TABLE' ? 'table' : 'view';
          this.flag('rename', `renames ${kind} ${table} to ${rename.newname ?? '?'}`, kind === 'table' ? `ALTER TABLE ${table} RENAME TO ${rename.newname ?? 'new'}; CREATE VIEW ${table} AS SELECT * FROM ${rename.newname ?? 'new'}; (drop the view once the code uses the new name)` : undefined);
        }
        this.moveColumns(bareName(table), rename.newname);
        return;
      case 'OBJECT_COLUMN':
        this.lock(table, 'AccessExclusiveLock');
        if (this.isExisting(table)) this.flag('rename', `renames column ${table}.${rename.subname ?? '?'} to ${rename.newname ?? '?'}`);
        this.moveColumn(bareName(table), rename.subname, rename.newname);
        return;
      case 'OBJECT_TABCONSTRAINT':
        this.lock(table, 'AccessExclusiveLock');
        return;
      case 'OBJECT_TYPE': {
        const type = bareName(names(rename.object && 'List' in rename.object ? rename.object.List.items : []).join('.'));
        if (this.recreatedEnums.has(type)) {
          this.flag('enum-value-removal', `renames enum ${type} away to recreate it: ${this.removedValues(type)}`);
        }
        return;
      }
      default:
    }
  }

  private moveColumns(from: string, to: string | undefined): void {
    if (!to) return;
    for (const [key, type] of [...this.knowledge.columns]) {
      if (!key.startsWith(`${from}.`)) continue;
      this.knowledge.columns.delete(key);
      this.knowledge.columns.set(`${to}.${key.slice(from.length + 1)}`, type);
    }
  }

  private moveColumn(table: string, from: string | undefined, to: string | undefined): void {
    const type = this.knowledge.columns.get(`${table}.${from ?? ''}`);
    if (!type || !to) return;
    this.knowledge.columns.delete(`${table}.${from ?? ''}`);
    this.knowledge.columns.set(`${table}.${to}`, type);
  }
}



/** A SET value as text: `'2s'`, `2000`, `0`. */
function settingValue(node: Node | undefined): string | undefined {
  if (!node || !('A_Const' in node)) return undefined;
  const constant = node.A_Const;
  if (constant.sval) return constant.sval.sval;
  if (constant.ival) return String(constant.ival.ival ?? 0);
  return constant.fval?.fval;
}

/** Every statement of one migration, analysed in order; `knowledge` is updated for the next migration. */
export function analyzeMigration(statements: readonly SqlStatement[], noTransaction: boolean, knowledge: SchemaKnowledge): AnalyzedStatement[] {
  const walk = new MigrationWalk(knowledge, noTransaction, statements);
  return statements.map((statement) => walk.analyze(statement));
}

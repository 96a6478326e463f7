/**
 * What each statement of a migration does to a live database — the locks it takes on
 * existing relations (pg_locks mode names, as the rehearsal reads them), the tables it
 * rewrites — and the findings of the rules (rules.ts) about it. A relation created in
 * the same migration is new: locking or rewriting it blocks nobody.
 *
 * Knowledge carried from one migration to the next (column types, enum values) comes
 * from the database for pending migrations, and from the statements themselves.
 */
import type { AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, Node, RangeVar } from 'libpg-query';
import { formatColumnType, typeChange, type ColumnType } from '../../pg/type-coercion.js';
import type { RuleId } from './rules.js';
import type { SqlStatement } from './sql-parser.js';
import { bareName, calledFunctions, columnTypeOf, isSerial, names, relationName, stringConstant } from './syntax.js';

export type LockMode = 'AccessExclusiveLock' | 'ExclusiveLock' | 'ShareRowExclusiveLock' | 'ShareLock' | 'ShareUpdateExclusiveLock';

/** What a statement does to existing relations: the claims the rehearsal checks. */
export interface StatementClaims {
  locks: Array<{ relation: string; mode: LockMode }>;
  rewrites: string[];
}

/** A rule's finding on one statement, before allow comments are applied. */
export interface RawFinding {
  rule: RuleId;
  message: string;
  /** The safe form for this statement, when more precise than the rule's. */
  safe?: string;
}

export interface AnalyzedStatement {
  statement: SqlStatement;
  claims: StatementClaims;
  findings: RawFinding[];
}

/** What lint knows of the schema before a migration, updated as it reads. */
export interface SchemaKnowledge {
  /** `table.column` (unqualified table) → type. */
  columns: Map<string, ColumnType>;
  /** enum type (unqualified) → its values. */
  enums: Map<string, string[]>;
}

export function emptyKnowledge(): SchemaKnowledge {
  return { columns: new Map(), enums: new Map() };
}

/** Functions whose every call gives a new value: a default calling one rewrites on ADD COLUMN. */
const VOLATILE_FUNCTIONS = new Set([
  'random', 'random_normal', 'clock_timestamp', 'timeofday', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4',
  'nextval', 'txid_current', 'pg_current_xact_id', 'gen_random_bytes', 'setseed',
]);

/** ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (AlterTableGetLockLevel). */
const SHARE_UPDATE_EXCLUSIVE = new Set(['AT_SetStatistics', 'AT_ValidateConstraint', 'AT_ClusterOn', 'AT_DropCluster', 'AT_SetRelOptions', 'AT_ResetRelOptions', 'AT_ReplaceRelOptions', 'AT_SetOptions', 'AT_ResetOptions', 'AT_AttachPartition']);
const SHARE_ROW_EXCLUSIVE = new Set(['AT_EnableTrig', 'AT_EnableAlwaysTrig', 'AT_EnableReplicaTrig', 'AT_DisableTrig', 'AT_EnableTrigAll', 'AT_DisableTrigAll', 'AT_EnableTrigUser', 'AT_DisableTrigUser']);
const REWRITING = new Map([
  ['AT_SetLogged', 'SET LOGGED'],
  ['AT_SetUnLogged', 'SET UNLOGGED'],
  ['AT_SetTableSpace', 'SET TABLESPACE'],
  ['AT_SetAccessMethod', 'SET ACCESS METHOD'],
]);
const LOCK_STRENGTH: LockMode[] = ['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'ShareUpdateExclusiveLock'];

function stronger(a: LockMode, b: LockMode): LockMode {
  return LOCK_STRENGTH.indexOf(a) <= LOCK_STRENGTH.indexOf(b) ? a : b;
}

/** The walk over one migration's statements. */
class MigrationWalk {
  private inTransaction: boolean;
  private explicitBlock = false;
  private lockTimeout = false;
  private localLockTimeout = false;
  private readonly created = new Set<string>();
  /** table → columns a valid CHECK (column IS NOT NULL) proves. */
  private readonly notNullProofs = new Map<string, Set<string>>();
  /** NOT VALID CHECK (column IS NOT NULL) constraints, by name, until validated. */
  private readonly pendingChecks = new Map<string, { table: string; column: string }>();
  /** Enum types the migration creates (a DROP TYPE before it is a recreation). */
  private readonly recreatedEnums: Set<string>;

  private claims: StatementClaims = { locks: [], rewrites: [] };
  private findings: RawFinding[] = [];
  /** DROP INDEX without CONCURRENTLY: ACCESS EXCLUSIVE on a table lint cannot name. */
  private exclusiveOnIndexTable = false;
  private lockTimeoutFlagged = false;

  constructor(
    private readonly knowledge: SchemaKnowledge,
    private readonly noTransaction: boolean,
    statements: readonly SqlStatement[],
  ) {
    this.inTransaction = !noTransaction;
    this.recreatedEnums = new Set(statements.flatMap(({ node }) => ('CreateEnumStmt' in node ? [bareName(names(node.CreateEnumStmt.typeName).join('.'))] : [])));
  }

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

  private flag(rule: RuleId, message: string, safe?: string): void {
    this.findings.push(safe ? { rule, message, safe } : { rule, message });
  }

  private isExisting(relation: string): boolean {
    return !this.created.has(bareName(relation));
  }

  private lock(relation: string, mode: LockMode): void {
    if (!this.isExisting(relation)) return;
    const known = this.claims.locks.find((lock) => lock.relation === relation);
    if (known) known.mode = stronger(known.mode, mode);
    else this.claims.locks.push({ relation, mode });
  }

  private rewrite(relation: string): void {
    if (this.isExisting(relation) && !this.claims.rewrites.includes(relation)) this.claims.rewrites.push(relation);
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

  private alterTable(alter: AlterTableStmt): void {
    if (alter.objtype !== 'OBJECT_TABLE') return;
    const table = relationName(alter.relation);
    let mode: LockMode | undefined;
    for (const item of alter.cmds ?? []) {
      if (!('AlterTableCmd' in item)) continue;
      const cmd = item.AlterTableCmd;
      const cmdMode = this.alterCommand(table, cmd);
      mode = mode ? stronger(mode, cmdMode) : cmdMode;
    }
    if (mode) this.lock(table, mode);
  }

  /** One subcommand: its findings, and the lock it needs on the table. */
  private alterCommand(table: string, cmd: AlterTableCmd): LockMode {
    const existing = this.isExisting(table);
    const key = (column: string | undefined): string => `${bareName(table)}.${column ?? ''}`;
    const subtype = cmd.subtype ?? '';
    const rewriting = REWRITING.get(subtype);
    if (rewriting) {
      this.rewrite(table);
      if (existing) this.flag('table-rewrite', `${rewriting} rewrites ${table}`, subtype === 'AT_SetLogged' || subtype === 'AT_SetUnLogged' ? 'no lock-free form: run it in a maintenance window, or copy into a new table in batches and swap' : undefined);
      return 'AccessExclusiveLock';
    }
    switch (subtype) {
      case 'AT_AlterColumnType':
        this.alterColumnType(table, cmd.name, cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : undefined, existing);
        return 'AccessExclusiveLock';
      case 'AT_AddColumn':
        if (cmd.def && 'ColumnDef' in cmd.def) this.addColumn(table, cmd.def.ColumnDef, existing);
        return 'AccessExclusiveLock';
      case 'AT_DropColumn':
        if (existing) this.flag('data-loss', `drops column ${table}.${cmd.name ?? '?'} and its values`);
        this.knowledge.columns.delete(key(cmd.name));
        return 'AccessExclusiveLock';
      case 'AT_AddConstraint':
        return cmd.def && 'Constraint' in cmd.def ? this.addConstraint(table, cmd.def.Constraint, existing) : 'AccessExclusiveLock';
      case 'AT_ValidateConstraint': {
        const check = this.pendingChecks.get(cmd.name ?? '');
        if (check) this.proveNotNull(check.table, check.column);
        return 'ShareUpdateExclusiveLock';
      }
      case 'AT_SetNotNull':
        if (existing && !this.notNullProofs.get(bareName(table))?.has(cmd.name ?? '')) {
          const column = cmd.name ?? 'column';
          const check = `${bareName(table)}_${column}_not_null`.slice(0, 63);
          this.flag(
            'set-not-null',
            `SET NOT NULL on ${table}.${column} scans the table under ACCESS EXCLUSIVE`,
            `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID; ALTER TABLE ${table} VALIDATE CONSTRAINT ${check}; ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL; ALTER TABLE ${table} DROP CONSTRAINT ${check};`,
          );
        }
        return 'AccessExclusiveLock';
      case 'AT_DetachPartition': {
        const concurrent = cmd.def && 'PartitionCmd' in cmd.def && cmd.def.PartitionCmd.concurrent;
        if (concurrent && this.inTransaction) this.flag('concurrently-in-transaction', "DETACH PARTITION CONCURRENTLY inside the migration's transaction");
        return concurrent ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock';
      }
      default:
        if (SHARE_UPDATE_EXCLUSIVE.has(subtype)) return 'ShareUpdateExclusiveLock';
        if (SHARE_ROW_EXCLUSIVE.has(subtype)) return 'ShareRowExclusiveLock';
        return 'AccessExclusiveLock';
    }
  }

  private proveNotNull(table: string, column: string): void {
    const proofs = this.notNullProofs.get(table) ?? new Set<string>();
    proofs.add(column);
    this.notNullProofs.set(table, proofs);
  }

  private alterColumnType(table: string, column: string | undefined, def: ColumnDef | undefined, existing: boolean): void {
    const key = `${bareName(table)}.${column ?? ''}`;
    const target = columnTypeOf(def?.typeName);
    const current = this.knowledge.columns.get(key);
    if (target) this.knowledge.columns.set(key, target);
    if (!existing || !target) return;
    const where = `${table}.${column ?? '?'}`;
    if (!current) {
      this.flag('table-rewrite', `ALTER COLUMN ${column ?? '?'} TYPE ${formatColumnType(target)} rewrites ${table} unless the change is binary-coercible (the current type of ${where} is unknown to lint: it reads it from the database for pending migrations)`);
      return;
    }
    const change = typeChange(current, target);
    const using = def?.raw_default;
    const plainUsing = !using || isPlainColumnUse(using, column);
    const from = `${formatColumnType(current)} → ${formatColumnType(target)}`;
    if (change.rewrites || !plainUsing) {
      this.rewrite(table);
      this.flag('table-rewrite', `${where} ${from}${plainUsing ? '' : ' with a USING expression'} rewrites ${table}`);
    }
    if (change.mayLoseData) {
      this.flag('data-loss', `${where} ${from} ${change.kind === 'narrowing' ? 'is narrower: values may be cut, rounded or refused' : 'converts every value: some may not convert'}`);
    }
  }

  private addColumn(table: string, def: ColumnDef, existing: boolean): void {
    const type = columnTypeOf(def.typeName);
    if (type && def.colname) this.knowledge.columns.set(`${bareName(table)}.${def.colname}`, type);
    if (!existing) return;
    const constraints = (def.constraints ?? []).flatMap((item) => ('Constraint' in item ? [item.Constraint] : []));
    const why: string[] = [];
    if (isSerial(def.typeName)) why.push('a serial column fills every row from a sequence');
    for (const constraint of constraints) {
      if (constraint.contype === 'CONSTR_DEFAULT') {
        const volatile = calledFunctions(constraint.raw_expr).filter((fn) => VOLATILE_FUNCTIONS.has(fn));
        if (volatile.length > 0) why.push(`its default calls ${volatile[0] ?? ''}(), which is volatile: each row gets its own value`);
      } else if (constraint.contype === 'CONSTR_IDENTITY') why.push('an identity column fills every row from a sequence');
      else if (constraint.contype === 'CONSTR_GENERATED') why.push('a stored generated column is computed for every row');
      else if (constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE') {
        this.flag('index-concurrently', `ADD COLUMN ${def.colname ?? '?'} ${constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} builds an index under ACCESS EXCLUSIVE`);
      } else if (constraint.contype === 'CONSTR_FOREIGN' && constraint.pktable) this.lock(relationName(constraint.pktable), 'ShareRowExclusiveLock');
    }
    if (why.length > 0) {
      this.rewrite(table);
      this.flag('table-rewrite', `ADD COLUMN ${def.colname ?? '?'} rewrites ${table}: ${why.join('; ')}`, 'add the column without a default (or with a constant one), SET DEFAULT afterwards, and backfill the existing rows in batches');
    }
  }

  private addConstraint(table: string, constraint: Constraint, existing: boolean): LockMode {
    const name = constraint.conname ?? `${constraint.contype === 'CONSTR_FOREIGN' ? 'fk' : 'check'}`;
    if (constraint.contype === 'CONSTR_FOREIGN') {
      if (constraint.pktable) this.lock(relationName(constraint.pktable), 'ShareRowExclusiveLock');
      if (existing && !constraint.skip_validation) {
        this.flag('constraint-not-valid', `ADD CONSTRAINT ${name} FOREIGN KEY checks every row of ${table} while both tables are locked against writes`, `ALTER TABLE ${table} ADD CONSTRAINT ${name} FOREIGN KEY … NOT VALID; then ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}; in its own transaction`);
      }
      return 'ShareRowExclusiveLock';
    }
    if (constraint.contype === 'CONSTR_CHECK') {
      const column = notNullColumn(constraint.raw_expr);
      if (column) {
        if (constraint.skip_validation) this.pendingChecks.set(name, { table: bareName(table), column });
        else this.proveNotNull(bareName(table), column);
      }
      if (existing && !constraint.skip_validation) {
        this.flag('constraint-not-valid', `ADD CONSTRAINT ${name} CHECK scans ${table} under ACCESS EXCLUSIVE`, `ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (…) NOT VALID; then ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}; in its own transaction`);
      }
      return 'AccessExclusiveLock';
    }
    if ((constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE' || constraint.contype === 'CONSTR_EXCLUSION') && !constraint.indexname && existing) {
      const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : constraint.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'EXCLUDE';
      this.flag(
        'index-concurrently',
        `ADD ${kind} builds its index on ${table} under ACCESS EXCLUSIVE`,
        kind === 'EXCLUDE' ? undefined : `CREATE UNIQUE INDEX CONCURRENTLY ${name}_idx ON ${table} (…) (no-transaction migration), then ALTER TABLE ${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}_idx`,
      );
    }
    return 'AccessExclusiveLock';
  }
}

/** The column `CHECK (column IS NOT NULL)` is about, if that is what it says. */
function notNullColumn(expression: Node | undefined): string | undefined {
  if (!expression || !('NullTest' in expression) || expression.NullTest.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const arg = expression.NullTest.arg;
  if (!arg || !('ColumnRef' in arg)) return undefined;
  const parts = names(arg.ColumnRef.fields);
  return parts.length === 1 ? parts[0] : undefined;
}

/** `USING column` or `USING column::type`: what PostgreSQL does without USING. */
function isPlainColumnUse(expression: Node, column: string | undefined): boolean {
  const inner = 'TypeCast' in expression ? expression.TypeCast.arg : expression;
  if (!inner || !('ColumnRef' in inner)) return false;
  const parts = names(inner.ColumnRef.fields);
  return parts[parts.length - 1] === column;
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

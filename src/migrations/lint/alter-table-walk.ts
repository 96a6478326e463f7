/**
 * ALTER TABLE in the walk over a migration (analyze.ts): the lock each subcommand takes
 * (AlterTableGetLockLevel), the rewrites, and the rules about columns and constraints.
 */
import type { AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, Node } from 'libpg-query';
import { formatColumnType, typeChange } from '../../pg/type-coercion.js';
import { bareName, calledFunctions, columnTypeOf, isSerial, names, relationName } from './syntax.js';
import { stronger, WalkState, type LockMode } from './walk-state.js';

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

/** The ALTER TABLE part of the walk over a migration. */
export abstract class AlterTableWalk extends WalkState {
  protected alterTable(alter: AlterTableStmt): void {
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
  protected alterCommand(table: string, cmd: AlterTableCmd): LockMode {
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

  protected proveNotNull(table: string, column: string): void {
    const proofs = this.notNullProofs.get(table) ?? new Set<string>();
    proofs.add(column);
    this.notNullProofs.set(table, proofs);
  }

  protected alterColumnType(table: string, column: string | undefined, def: ColumnDef | undefined, existing: boolean): void {
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

  protected addColumn(table: string, def: ColumnDef, existing: boolean): void {
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

  protected addConstraint(table: string, constraint: Constraint, existing: boolean): LockMode {
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

/**
 * The state of the walk over one migration's statements (analyze.ts): what the migration
 * created, what it proved, its lock_timeout, and the claims and findings of the statement
 * being read.
 */
import type { ColumnType } from '../../pg/type-coercion.js';
import type { RuleId } from './rules.js';
import type { SqlStatement } from './sql-parser.js';
import { bareName, names } from './syntax.js';

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

const LOCK_STRENGTH: LockMode[] = ['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'ShareUpdateExclusiveLock'];

export function stronger(a: LockMode, b: LockMode): LockMode {
  return LOCK_STRENGTH.indexOf(a) <= LOCK_STRENGTH.indexOf(b) ? a : b;
}

/** What every part of the walk reads and records. */
export abstract class WalkState {
  protected inTransaction: boolean;
  protected explicitBlock = false;
  protected lockTimeout = false;
  protected localLockTimeout = false;
  protected readonly created = new Set<string>();
  /** table → columns a valid CHECK (column IS NOT NULL) proves. */
  protected readonly notNullProofs = new Map<string, Set<string>>();
  /** NOT VALID CHECK (column IS NOT NULL) constraints, by name, until validated. */
  protected readonly pendingChecks = new Map<string, { table: string; column: string }>();
  /** Enum types the migration creates (a DROP TYPE before it is a recreation). */
  protected readonly recreatedEnums: Set<string>;

  protected claims: StatementClaims = { locks: [], rewrites: [] };
  protected findings: RawFinding[] = [];
  /** DROP INDEX without CONCURRENTLY: ACCESS EXCLUSIVE on a table lint cannot name. */
  protected exclusiveOnIndexTable = false;
  protected lockTimeoutFlagged = false;

  constructor(
    protected readonly knowledge: SchemaKnowledge,
    protected readonly noTransaction: boolean,
    statements: readonly SqlStatement[],
  ) {
    this.inTransaction = !noTransaction;
    this.recreatedEnums = new Set(statements.flatMap(({ node }) => ('CreateEnumStmt' in node ? [bareName(names(node.CreateEnumStmt.typeName).join('.'))] : [])));
  }

  protected flag(rule: RuleId, message: string, safe?: string): void {
    this.findings.push(safe ? { rule, message, safe } : { rule, message });
  }

  protected isExisting(relation: string): boolean {
    return !this.created.has(bareName(relation));
  }

  protected lock(relation: string, mode: LockMode): void {
    if (!this.isExisting(relation)) return;
    const known = this.claims.locks.find((lock) => lock.relation === relation);
    if (known) known.mode = stronger(known.mode, mode);
    else this.claims.locks.push({ relation, mode });
  }

  protected rewrite(relation: string): void {
    if (this.isExisting(relation) && !this.claims.rewrites.includes(relation)) this.claims.rewrites.push(relation);
  }
}

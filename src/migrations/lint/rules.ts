/**
 * The rules of `migrator lint`: each has an id (what `-- db-tool: allow RULE reason`
 * names), a title, why it matters on a live database, and the safe form. The README's
 * rules table says the same.
 */

export const RULE_IDS = [
  'table-rewrite',
  'lock-timeout',
  'constraint-not-valid',
  'set-not-null',
  'index-concurrently',
  'concurrently-in-transaction',
  'data-loss',
  'rename',
  'enum-value-removal',
  'transaction-control',
  'syntax-error',
  'allow-reason',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

export interface Rule {
  id: RuleId;
  title: string;
  why: string;
  safe: string;
}

const NO_TRANSACTION = '`-- db-tool: no-transaction` as the migration\'s first line';

export const RULES: Record<RuleId, Rule> = {
  'table-rewrite': {
    id: 'table-rewrite',
    title: 'rewrites the table',
    why: 'the table and every index are copied under ACCESS EXCLUSIVE: no read or write gets through until the copy is done, and it needs the disk space twice',
    safe: 'add a new column, backfill it in batches, switch the code over, then drop the old one',
  },
  'lock-timeout': {
    id: 'lock-timeout',
    title: 'ACCESS EXCLUSIVE without lock_timeout',
    why: 'while it waits for a running query to finish, every other query on the table queues behind it: a short DDL becomes an outage',
    safe: "SET lock_timeout = '2s'; before it (then retry the migration when it times out)",
  },
  'constraint-not-valid': {
    id: 'constraint-not-valid',
    title: 'constraint added without NOT VALID',
    why: 'checking every existing row happens under the lock the ADD takes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key): writes wait for the whole scan',
    safe: 'ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on)',
  },
  'set-not-null': {
    id: 'set-not-null',
    title: 'SET NOT NULL without a validated CHECK',
    why: 'PostgreSQL scans the whole table under ACCESS EXCLUSIVE to prove there is no NULL, unless a validated CHECK (column IS NOT NULL) proves it already',
    safe: 'ADD CONSTRAINT c CHECK (column IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL (no scan) and DROP CONSTRAINT c',
  },
  'index-concurrently': {
    id: 'index-concurrently',
    title: 'index built or dropped without CONCURRENTLY',
    why: 'CREATE INDEX holds SHARE on the table for the whole build (writes wait); DROP INDEX and an index-building constraint hold ACCESS EXCLUSIVE',
    safe: `CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY (or ADD CONSTRAINT … USING INDEX on an index built concurrently), in a migration with ${NO_TRANSACTION}`,
  },
  'concurrently-in-transaction': {
    id: 'concurrently-in-transaction',
    title: 'CONCURRENTLY inside a transaction',
    why: 'PostgreSQL refuses it ("cannot run inside a transaction block"): the migration fails',
    safe: `${NO_TRANSACTION} (one concurrent statement per migration keeps a failure easy to clean up)`,
  },
  'data-loss': {
    id: 'data-loss',
    title: 'loses data',
    why: 'the values are gone once it commits, and code still running against the old schema breaks',
    safe: 'stop using it in the code first and deploy; drop it in a later migration, after a backup; for a narrower type check every value fits first',
  },
  rename: {
    id: 'rename',
    title: 'rename breaks running code',
    why: 'the code deployed now still uses the old name and fails from the moment the migration commits',
    safe: 'add the new one beside the old (a new column kept in sync, or a view under the old name), switch the code, then drop the old one later',
  },
  'enum-value-removal': {
    id: 'enum-value-removal',
    title: 'enum values removed',
    why: 'rows and running code that use a removed value fail; recreating the type converts every column of it (a rewrite under ACCESS EXCLUSIVE)',
    safe: 'keep the value and stop using it in the code, or move the rows off it first and recreate the type in a maintenance window',
  },
  'transaction-control': {
    id: 'transaction-control',
    title: 'ends the transaction it runs in',
    why: 'each migration runs in its own transaction together with its bookkeeping row: a COMMIT or ROLLBACK inside breaks that, and the run fails (exit 4)',
    safe: `remove it; a migration that must run outside a transaction starts with ${NO_TRANSACTION}`,
  },
  'syntax-error': {
    id: 'syntax-error',
    title: 'does not parse',
    why: "PostgreSQL's parser rejects it: the migration would fail",
    safe: 'fix the SQL (psql variables such as :name are not substituted by lint)',
  },
  'allow-reason': {
    id: 'allow-reason',
    title: 'allow comment without a reason or with an unknown rule',
    why: 'a silenced finding must say why it is safe here, and name a rule that exists',
    safe: '-- db-tool: allow RULE-ID why this is safe here',
  },
};

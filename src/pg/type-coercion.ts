/**
 * What `ALTER COLUMN … TYPE` costs, from PostgreSQL's own coercion rules: shared by
 * `migrator lint` (which reads the types from the parser's syntax tree) and diff's
 * migration writer (which reads them as format_type prints them), so both say the same.
 *
 * PostgreSQL skips the table rewrite when the conversion is binary-coercible (a
 * `castmethod = 'b'` cast: varchar → text, cidr → inet, bit → varbit…) or a length or
 * precision coercion its support function proves to be a no-op (varchar(n) → varchar(m ≥
 * n), numeric(p,s) → numeric(q ≥ p,s), timestamp(p) → timestamp(q ≥ p)…): see
 * ATColumnChangeRequiresRewrite and the `*_support` functions of the server. Everything
 * else rewrites the table and its indexes under ACCESS EXCLUSIVE.
 */

/** A column type: its `pg_type.typname` (varchar, numeric, int4…), its modifiers, array or not. */
export interface ColumnType {
  name: string;
  /** Type modifiers as written: varchar(20) → [20], numeric(10,2) → [10, 2]; [] when unconstrained. */
  mods: number[];
  array: boolean;
}

export type TypeChangeKind =
  /** Same type, nothing to do. */
  | 'same'
  /** No rewrite, no value changes (binary-coercible, or a typmod no-op PostgreSQL proves). */
  | 'binary'
  /** Rewrites, but every value fits the new type. */
  | 'widening'
  /** Rewrites, and values may be cut, rounded or refused (the migration fails on them). */
  | 'narrowing'
  /** Rewrites through a conversion whose outcome depends on the values. */
  | 'conversion';

export interface TypeChange {
  kind: TypeChangeKind;
  rewrites: boolean;
  /** Values may be lost (rounded, cut) or refused. */
  mayLoseData: boolean;
}

/** format_type's SQL-standard names → typname. */
const STANDARD_NAMES: Record<string, string> = {
  'character varying': 'varchar',
  character: 'bpchar',
  char: 'bpchar',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
  'bit varying': 'varbit',
  integer: 'int4',
  int: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  real: 'float4',
  'double precision': 'float8',
  boolean: 'bool',
  decimal: 'numeric',
};

/** Types whose modifier bounds the value: a larger (or no) modifier holds every value. */
const LENGTH_BOUNDED = new Set(['varchar', 'varbit']);
const PRECISION_BOUNDED = new Set(['timestamp', 'timestamptz', 'time', 'timetz', 'interval']);

/** Binary-coercible casts (pg_cast.castmethod = 'b') between the common types, from → to. */
const BINARY_COERCIBLE = new Set(['varchar>text', 'text>varchar', 'cidr>inet', 'xml>text', 'xml>varchar', 'bit>varbit', 'varbit>bit', 'int4>oid', 'oid>int4']);

/** Casts that keep every value (the table is still rewritten). */
const WIDENING = new Set([
  'int2>int4', 'int2>int8', 'int4>int8', 'int2>numeric', 'int4>numeric', 'int8>numeric',
  'int2>float8', 'int4>float8', 'float4>float8', 'int2>float4',
  'bpchar>text', 'bpchar>varchar', 'varchar>bpchar', 'text>bpchar',
  'date>timestamp', 'date>timestamptz', 'timestamp>timestamptz', 'timestamptz>timestamp',
  'json>jsonb', 'jsonb>json', 'json>text', 'jsonb>text',
  'int2>text', 'int4>text', 'int8>text', 'numeric>text', 'uuid>text', 'date>text', 'bool>text',
  'int2>varchar', 'int4>varchar', 'int8>varchar', 'numeric>varchar', 'uuid>varchar',
]);

/** Casts that can lose or refuse values. */
const NARROWING = new Set([
  'int8>int4', 'int8>int2', 'int4>int2', 'numeric>int2', 'numeric>int4', 'numeric>int8',
  'float8>float4', 'float8>int4', 'float8>int8', 'float4>int4', 'numeric>float4', 'numeric>float8', 'int8>float4', 'int4>float4', 'int8>float8',
  'timestamp>date', 'timestamptz>date', 'timestamp>time', 'timestamptz>time', 'timestamptz>timetz', 'inet>cidr',
]);

/** `character varying(20)`, `numeric(10,2)`, `timestamp(3) with time zone`, `integer[]`, `public.mood` → ColumnType. */
export function parseTypeText(text: string): ColumnType {
  let rest = text.trim();
  let array = false;
  while (rest.endsWith('[]')) {
    array = true;
    rest = rest.slice(0, -2).trimEnd();
  }
  let mods: number[] = [];
  const modifiers = /\(([\d\s,]+)\)/.exec(rest);
  if (modifiers) {
    mods = (modifiers[1] ?? '').split(',').map((part) => Number(part.trim()));
    rest = `${rest.slice(0, modifiers.index)}${rest.slice(modifiers.index + modifiers[0].length)}`.replace(/\s+/g, ' ').trim();
  }
  const lower = rest.replace(/^pg_catalog\./, '').replace(/^"(.*)"$/, '$1').toLowerCase();
  return { name: STANDARD_NAMES[lower] ?? lower, mods, array };
}

/** A typname as the parser writes it (`pg_catalog.int4`, `text`, `serial`…) made canonical. */
export function canonicalTypeName(name: string): string {
  const lower = name.toLowerCase();
  return STANDARD_NAMES[lower] ?? lower;
}

/** `varchar(20)`, `numeric(10,2)[]` — for messages. */
export function formatColumnType(type: ColumnType): string {
  return `${type.name}${type.mods.length > 0 ? `(${type.mods.join(',')})` : ''}${type.array ? '[]' : ''}`;
}

/** How modifier `to` compares with `from` for one type: 'same', 'wider' (or unconstrained), 'narrower'. */
function compareMods(name: string, from: readonly number[], to: readonly number[]): 'same' | 'wider' | 'narrower' {
  if (from.join(',') === to.join(',')) return 'same';
  if (to.length === 0) return name === 'bpchar' || name === 'bit' ? 'narrower' : 'wider'; // char and bit default to length 1
  if (from.length === 0) return 'narrower';
  if (name === 'numeric') {
    const [fromPrecision = 0, fromScale = 0] = from;
    const [toPrecision = 0, toScale = 0] = to;
    if (toScale < fromScale || toPrecision - toScale < fromPrecision - fromScale) return 'narrower';
    // PostgreSQL proves only a precision increase at the same scale to be a no-op.
    return toScale === fromScale ? 'wider' : 'narrower';
  }
  return (to[0] ?? 0) >= (from[0] ?? 0) ? 'wider' : 'narrower';
}

const result = (kind: TypeChangeKind): TypeChange => ({ kind, rewrites: kind !== 'same' && kind !== 'binary', mayLoseData: kind === 'narrowing' || kind === 'conversion' });

/**
 * What changing a column from `from` to `to` does (without a USING expression other
 * than the plain cast): whether PostgreSQL rewrites the table, and whether values may be
 * lost or refused.
 */
export function typeChange(from: ColumnType, to: ColumnType): TypeChange {
  if (from.array !== to.array) return result('conversion');
  if (from.name === to.name) {
    const mods = compareMods(from.name, from.mods, to.mods);
    if (mods === 'same') return result('same');
    if (mods === 'wider' && (LENGTH_BOUNDED.has(from.name) || PRECISION_BOUNDED.has(from.name) || from.name === 'numeric')) return result('binary');
    // char(n) → char(m) pads or cuts every value; bit(n) must match its length exactly.
    return result(mods === 'wider' && from.name === 'bpchar' ? 'widening' : 'narrowing');
  }
  const pair = `${from.name}>${to.name}`;
  if (from.array) return result(BINARY_COERCIBLE.has(pair) && to.mods.length === 0 ? 'widening' : 'conversion');
  if (BINARY_COERCIBLE.has(pair)) {
    // The cast is free; a modifier on the target still has to be checked row by row.
    if (to.mods.length === 0) return result('binary');
    const bounded = LENGTH_BOUNDED.has(from.name) && from.mods.length > 0 && compareMods(to.name, from.mods, to.mods) !== 'narrower';
    return result(bounded ? 'binary' : 'narrowing');
  }
  if (WIDENING.has(pair)) {
    const boundedTarget = to.mods.length > 0 && (LENGTH_BOUNDED.has(to.name) || to.name === 'bpchar' || to.name === 'numeric' || PRECISION_BOUNDED.has(to.name));
    return result(boundedTarget ? 'narrowing' : 'widening');
  }
  if (NARROWING.has(pair)) return result('narrowing');
  return result('conversion');
}

/**
 * The order rows of a compared table are read in, said once for both the server and
 * this process. The two sides are merged as they stream in, so the test "which of two
 * keys comes first" made here must agree with the ORDER BY each server ran, or rows
 * present on both sides would be reported as missing from each.
 *
 * For a column of a type whose order this module knows exactly (integers, numeric,
 * floats, text-like types in the "C" collation, uuid, boolean) the servers order by the
 * value as its type — so keys list as 2 before 10 — and the same order is computed here
 * from the text form. Every other column (dates, enums, arrays, json, types without an
 * ordering…) is ordered on both servers by its text form in the "C" collation, compared
 * here by code point: the same on both servers whatever their locale, and here.
 * Pure: unit-tested on its own.
 */

/** How a column's values are ordered. */
export type OrderKind = 'integer' | 'numeric' | 'float' | 'text' | 'bpchar' | 'plain' | 'text-form';

/** Built-in type oids (stable across PostgreSQL versions) whose order is computed here. */
const KIND_OF_TYPE = new Map<number, OrderKind>([
  [20, 'integer'], // int8
  [21, 'integer'], // int2
  [23, 'integer'], // int4
  [26, 'integer'], // oid
  [1700, 'numeric'],
  [700, 'float'], // float4
  [701, 'float'], // float8
  [25, 'text'],
  [1043, 'text'], // varchar
  [19, 'text'], // name
  [1042, 'bpchar'], // character(n): trailing spaces do not count
  [2950, 'plain'], // uuid: fixed-width lower-case hex, its text sorts as its bytes
  [16, 'plain'], // boolean: f < t
]);

/** The order kind of a column whose (domain-resolved) type is `typeOid`. */
export function orderKindOf(typeOid: number): OrderKind {
  return KIND_OF_TYPE.get(typeOid) ?? 'text-form';
}

/** True when two different texts can be equal values (1.0 = 1.00, 'a' = 'a ' as char): ties need a text tiebreak. */
export function hasUnequalTextsForEqualValues(kind: OrderKind): boolean {
  return kind === 'numeric' || kind === 'float' || kind === 'bpchar';
}

/** A column as an ORDER BY item, qualified with the alias `t` (a bare name could mean an output column). */
export function orderByItem(qualifiedColumn: string, kind: OrderKind): string {
  if (kind === 'text-form') return `${qualifiedColumn}::text COLLATE "C"`;
  if (kind === 'text' || kind === 'bpchar') return `${qualifiedColumn} COLLATE "C"`;
  return qualifiedColumn;
}

/** The text tiebreak of a column (see hasUnequalTextsForEqualValues). */
export function textTiebreakItem(qualifiedColumn: string): string {
  return `${qualifiedColumn}::text COLLATE "C"`;
}

/**
 * Strings by Unicode code point: the order of their UTF-8 bytes, which is what the "C"
 * collation compares. (`<` compares UTF-16 code units, which puts characters beyond
 * U+FFFF before U+E000–U+FFFF.)
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (U+D800–U+DFFF) stand for code points above U+FFFF: move them above.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/** Digits of a non-negative integer text without leading zeros ('' for zero). */
function withoutLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length && digits.charCodeAt(i) === 48) i += 1;
  return digits.slice(i);
}

function withoutTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end -= 1;
  return digits.slice(0, end);
}

/** Two non-negative decimal texts (`123`, `0.50`) by value. */
function compareMagnitudes(a: string, b: string): number {
  const [intA = '', fracA = ''] = a.split('.');
  const [intB = '', fracB = ''] = b.split('.');
  const wholeA = withoutLeadingZeros(intA);
  const wholeB = withoutLeadingZeros(intB);
  if (wholeA.length !== wholeB.length) return wholeA.length < wholeB.length ? -1 : 1;
  if (wholeA !== wholeB) return wholeA < wholeB ? -1 : 1;
  const partA = withoutTrailingZeros(fracA);
  const partB = withoutTrailingZeros(fracB);
  return partA === partB ? 0 : partA < partB ? -1 : 1;
}

/** Decimal texts by value, as PostgreSQL orders numeric: -Infinity < numbers < Infinity < NaN. */
export function compareNumericText(a: string, b: string): number {
  if (a === b) return 0;
  const rank = (text: string): number => (text === 'NaN' ? 3 : text === 'Infinity' ? 2 : text === '-Infinity' ? 0 : 1);
  const rankA = rank(a);
  const rankB = rank(b);
  if (rankA !== rankB || rankA !== 1) return rankA - rankB;
  const negativeA = a.startsWith('-');
  const negativeB = b.startsWith('-');
  const magnitude = compareMagnitudes(negativeA ? a.slice(1) : a, negativeB ? b.slice(1) : b);
  const zeroA = /^-?[0.]*$/.test(a);
  const zeroB = /^-?[0.]*$/.test(b);
  if (zeroA && zeroB) return 0;
  if (negativeA !== negativeB) return negativeA ? -1 : 1;
  return negativeA && magnitude !== 0 ? -magnitude : magnitude;
}

/** Integer texts by value (any width: int8 does not fit a double). */
export function compareIntegerText(a: string, b: string): number {
  return compareNumericText(a, b);
}

/** Float texts by value, as PostgreSQL orders them: NaN above everything, equal to itself; -0 = 0. */
export function compareFloatText(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  const nanX = Number.isNaN(x);
  const nanY = Number.isNaN(y);
  if (nanX || nanY) return nanX === nanY ? 0 : nanX ? 1 : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** character(n) in the "C" collation: trailing spaces do not count. */
export function compareBpcharText(a: string, b: string): number {
  return compareCodePoints(a.replace(/ +$/, ''), b.replace(/ +$/, ''));
}

const COMPARE_BY_KIND: Record<OrderKind, (a: string, b: string) => number> = {
  integer: compareIntegerText,
  numeric: compareNumericText,
  float: compareFloatText,
  text: compareCodePoints,
  bpchar: compareBpcharText,
  plain: compareCodePoints,
  'text-form': compareCodePoints,
};

export type ValueComparator = (a: string | null, b: string | null) => number;

/** How two values of a column compare, NULLs last (PostgreSQL's ascending default). */
export function valueComparator(kind: OrderKind): ValueComparator {
  const compare = COMPARE_BY_KIND[kind];
  return (a, b) => {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    return compare(a, b);
  };
}

/**
 * COPY's text format, the form rows are read in and shown in: one line per row, fields
 * separated by tabs, NULL as `\N`, backslash escapes for backslash and control
 * characters. Pure.
 */

/** A row's values as text, NULL as null. */
export type Row = Array<string | null>;

const NULL_FIELD = '\\N';

const ESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** One field of a COPY line as its value. */
export function decodeField(field: string): string | null {
  if (field === NULL_FIELD) return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))/gs, (_match, octal: string | undefined, hex: string | undefined, other: string) => {
    if (octal !== undefined) return String.fromCharCode(parseInt(octal, 8));
    if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
    return ESCAPED[other] ?? other;
  });
}

/** A COPY line as its values. */
export function decodeLine(line: string): Row {
  return line.split('\t').map(decodeField);
}

/** A row as one COPY line: tab-separated, escaped as COPY escapes, NULL as `\N`. */
export function formatRow(row: Row): string {
  return row.map((value) => (value === null ? NULL_FIELD : value.replace(/[\\\b\f\n\r\t\v]/g, (c) => ESCAPES[c] ?? c))).join('\t');
}

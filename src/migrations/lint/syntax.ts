/** Small readers of libpg-query's syntax tree (the server's node names and fields). */
import type { Node, RangeVar, TypeName } from 'libpg-query';
import { canonicalTypeName, type ColumnType } from '../../pg/type-coercion.js';

/** The `String` values of a name list (`[{String: {sval}}…]`). */
export function names(list: readonly Node[] | undefined): string[] {
  return (list ?? []).flatMap((item) => ('String' in item && item.String.sval !== undefined ? [item.String.sval] : []));
}

/** `schema.name` or `name`, as written. */
export function relationName(relation: RangeVar | undefined): string {
  if (!relation?.relname) return '?';
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
}

/** The unqualified name of a possibly qualified one (`public.t` → `t`). */
export function bareName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

const SERIAL_TYPES: Record<string, string> = { serial: 'int4', serial4: 'int4', bigserial: 'int8', serial8: 'int8', smallserial: 'int2', serial2: 'int2' };

/** A TypeName as a ColumnType (serial types as the integer they store). */
export function columnTypeOf(typeName: TypeName | undefined): ColumnType | undefined {
  const parts = names(typeName?.names);
  const last = parts[parts.length - 1];
  if (!last) return undefined;
  const name = canonicalTypeName(last);
  const mods = (typeName?.typmods ?? []).flatMap((mod) => ('A_Const' in mod && mod.A_Const.ival ? [mod.A_Const.ival.ival ?? 0] : []));
  return { name: SERIAL_TYPES[name] ?? name, mods, array: (typeName?.arrayBounds?.length ?? 0) > 0 };
}

/** True for serial, bigserial, smallserial (an implicit nextval default). */
export function isSerial(typeName: TypeName | undefined): boolean {
  const parts = names(typeName?.names);
  return (parts[parts.length - 1] ?? '').toLowerCase() in SERIAL_TYPES;
}

/** Every function called anywhere inside a node (lower-case, unqualified). */
export function calledFunctions(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) calledFunctions(item, into);
  } else if (node && typeof node === 'object') {
    const call = (node as { FuncCall?: { funcname?: Node[] } }).FuncCall;
    if (call) into.push(bareName(names(call.funcname).join('.')).toLowerCase());
    for (const value of Object.values(node)) calledFunctions(value, into);
  }
  return into;
}

/** The first String constant of a node list (`set_config('lock_timeout', …)`'s arguments). */
export function stringConstant(node: Node | undefined): string | undefined {
  return node && 'A_Const' in node ? node.A_Const.sval?.sval : undefined;
}

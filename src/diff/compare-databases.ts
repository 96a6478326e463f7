/**
 * The comparison of two built databases: their schemas (pg_dump, split into objects)
 * and the reference-data tables asked for, read at once. A database that cannot be read
 * is an InternalError: it never reads as "differences found".
 */
import type { PgPrograms } from '../pg/pg-bin.js';
import { InternalError, ProgramFailedError, SqlFailedError, UnreachableError } from '../base/errors.js';
import { withClient } from '../pg/db.js';
import { compareData, selectTables, type TableDataComparison } from './compare-data.js';
import { compareSchemas, type SchemaComparison } from './compare-schema.js';
import type { ComparedAspects } from './diff-result.js';
import { dumpSchema, type DumpOptions, type SchemaObject } from './schema-dump.js';
import { allOrFirstError } from '../base/promises.js';

/** What the comparison of two built databases found. */
export interface Comparison {
  schema: SchemaComparison;
  data: TableDataComparison[];
  /** Both schemas in dump order (the migration writer plans from them). */
  dumps: { db1: SchemaObject[]; db2: SchemaObject[] };
}

/** True for a failure to read a database: a query, pg_dump, or the connection. */
function isReadFailure(error: unknown): error is SqlFailedError | ProgramFailedError | UnreachableError {
  return error instanceof SqlFailedError || error instanceof ProgramFailedError || error instanceof UnreachableError;
}

export interface CompareOptions {
  tables: readonly string[];
  aspects: ComparedAspects;
  /** Writes every differing row to this file (the result keeps the first DEFAULT_ROW_LIMIT per table). */
  rowsFile?: string;
  /** Differing rows kept per table; default DEFAULT_ROW_LIMIT. */
  rowLimit?: number;
  /**
   * Schema dumps the caller started early, each as soon as its side was built (with
   * `schemaDumpOptions(aspects)`), while the other side may still be building.
   */
  schemas?: { db1?: Promise<SchemaObject[]>; db2?: Promise<SchemaObject[]> };
}

/** pg_dump's options for the aspects a run compares. */
export function schemaDumpOptions(aspects: ComparedAspects): DumpOptions {
  return { privileges: aspects.privileges, ignoreColumnOrder: !aspects.columnOrder };
}

/**
 * Compares two built databases: the --tables are resolved first (a name found in
 * neither → exit 5, before any dump unless the dumps were started already), then
 * schema dumps and data side by side.
 */
export async function compareDatabases(config: PgPrograms, urls: { db1: string; db2: string }, options: CompareOptions): Promise<Comparison> {
  try {
    return await withClient(urls.db1, (client1) =>
      withClient(urls.db2, async (client2) => {
        const tables = await selectTables(client1, client2, options.tables);
        const dumpOptions = schemaDumpOptions(options.aspects);
        const [schema1, schema2, data] = await allOrFirstError<[SchemaObject[], SchemaObject[], TableDataComparison[]]>([
          options.schemas?.db1 ?? dumpSchema(config, urls.db1, dumpOptions),
          options.schemas?.db2 ?? dumpSchema(config, urls.db2, dumpOptions),
          compareData(client1, client2, tables, { rowsFile: options.rowsFile, rowLimit: options.rowLimit }),
        ]);
        return { schema: compareSchemas(schema1, schema2), data, dumps: { db1: schema1, db2: schema2 } };
      }),
    );
  } catch (error) {
    // The databases were just built: failing to read them (a query, pg_dump, a connection)
    // is unexpected state, not a difference. A rows file that cannot be written stays what it is.
    if (isReadFailure(error)) throw new InternalError(`comparing DB1 and DB2 failed: ${error.message}`, error.details);
    throw error;
  }
}

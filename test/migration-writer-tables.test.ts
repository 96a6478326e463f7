/**
 * The migration writer, one test per drift kind that changes a table (its columns,
 * constraints, indexes, partitions, storage, triggers, policies) or adds or drops one:
 * proved, applied by the migrator, identical, and back (helpers/writer-base.ts). The
 * other kinds, the manual ones, grants and hazards are in migration-writer.test.ts.
 */
import { describe, it } from 'vitest';
import { useWriterBase } from './helpers/writer-base.js';
import { KINDS, TABLE_KINDS } from './fixtures/migration-writer/drift-kinds.js';

const bed = useWriterBase();

describe('migration writer: one drift kind of a table at a time', () => {
  it.each(TABLE_KINDS)('%s: proved, applied by migrator, identical; down brings it back', async (kind) => {
    const change = KINDS[kind];
    if (change === undefined) throw new Error(`no drift kind ${kind} in drift-kinds.ts`);
    await bed.proveKind(kind, change);
  });
});

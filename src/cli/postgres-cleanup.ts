/** postgres-cleanup: see postgres-cleanup-program.ts. bin/postgres-cleanup launches this file. */
import { buildPostgresCleanup } from './postgres-cleanup-program.js';
import { runCli } from './run.js';

await runCli('postgres-cleanup', buildPostgresCleanup, process.argv.slice(2));

/** postgres-init: see postgres-init-program.ts. bin/postgres-init launches this file. */
import { buildPostgresInit } from './postgres-init-program.js';
import { runCli } from './run.js';

await runCli('postgres-init', buildPostgresInit, process.argv.slice(2));

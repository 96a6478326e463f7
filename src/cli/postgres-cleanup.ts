/** postgres-cleanup: see postgres-cleanup-program.ts. bin/db-tool-launcher launches this file. */
import './compile-cache.js'; // first: the modules below load with the cache on
import { buildPostgresCleanup } from './postgres-cleanup-program.js';
import { commandLine, runCli } from './run.js';

void runCli('postgres-cleanup', buildPostgresCleanup, commandLine());

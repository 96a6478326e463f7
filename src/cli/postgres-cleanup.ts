/** postgres-cleanup: see postgres-cleanup-program.ts. bin/db-tool-launcher launches this file. */
// First: the start-up shortcuts (Node's compile cache covers the modules loaded after it).
import '../base/startup-shortcuts.js';
import { buildPostgresCleanup } from './postgres-cleanup-program.js';
import { commandLine, runCli } from './run.js';

void runCli('postgres-cleanup', buildPostgresCleanup, commandLine());

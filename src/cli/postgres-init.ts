/** postgres-init: see postgres-init-program.ts. bin/postgres-init launches this file (through bin/db-tool-launcher). */
import './compile-cache.js'; // first: the modules below load with the cache on
import { buildPostgresInit } from './postgres-init-program.js';
import { commandLine, runCli } from './run.js';

void runCli('postgres-init', buildPostgresInit, commandLine());

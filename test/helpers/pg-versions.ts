/**
 * Which PostgreSQL the tests run on. The PostgreSQL matrix (.ci/pg-matrix) points
 * PG_BIN_DIR at a 16, 17 or 18 server build that has no client programs, so pg_dump is
 * Debian's 15: too old for the server. Tests that need pg_dump themselves stay on the
 * PostgreSQL whose pg_dump fits (15 in CI): `it.skipIf(!PG_DUMP_FITS_SERVER)`.
 */
import { loadConfig } from '../../src/base/config.js';
import { readProgramOutput } from '../../src/base/process.js';
import { majorVersion, parseVersion } from '../../src/pg/client-version.js';
import { locatePgProgram, type PgProgram } from '../../src/pg/pg-bin.js';
import { baseEnv } from './env.js';

function majorOf(program: PgProgram): number | undefined {
  const config = loadConfig(baseEnv());
  const file = locatePgProgram(config, program);
  const version = file ? parseVersion(readProgramOutput(file, ['--version'], config.env) ?? '') : undefined;
  return version ? majorVersion(version) : undefined;
}

/** Major version of the server the tests start (PG_BIN_DIR's, else the one found as the tool finds it). */
export const SERVER_MAJOR = majorOf('postgres');

/** True when pg_dump can dump that server (its major is not older). */
export const PG_DUMP_FITS_SERVER = (majorOf('pg_dump') ?? 0) >= (SERVER_MAJOR ?? 0);

/**
 * The tool connects to its clusters as the role named after the server account
 * (`postgres` as root with the default PG_OS_USER, the user's own name otherwise): a
 * fresh cluster's superuser. A backup of another machine's cluster may lack it:
 * production's superuser is `postgres`, a colleague's cluster's is named after them.
 */
import type { Because } from './restored-copy.js';
import { runProgram, type OsUser } from '../base/process.js';
import { quoteIdent, quoteLiteral } from '../pg/db.js';
import { serverProgram, type PgPrograms } from '../pg/pg-bin.js';

/** Printed by the single-user session: the role was there (and could be the tool's), and is there after. */
const HAD_ROLE = 'db-tool: the role was there';
const HAD_SUPERUSER = 'db-tool: a superuser was there';
const HAS_SUPERUSER = 'db-tool: a superuser is there';

/**
 * Makes the tool's role in the copy in `dataDir` a superuser that logs in, as in a fresh
 * cluster: made when the copy lacks it, changed when it is production's role of that
 * name without those rights. Before the copy's first start, in single-user mode: it runs
 * as the copy's bootstrap superuser whatever that is named, and replays the backup's WAL
 * as a start would. The copy's configuration must already start here
 * (restored-copy.ts). Returns why, or undefined when nothing changed (a session that
 * fails is left for the start to report).
 */
export async function ensureToolRole(config: PgPrograms, dataDir: string, user: OsUser): Promise<Because | undefined> {
  const name = quoteLiteral(user.name);
  const role = quoteIdent(user.name);
  const superuser = `rolname = ${name} AND rolsuper AND rolcanlogin`;
  // One statement a line: a line break ends a statement in single-user mode.
  const input = [
    `SELECT ${quoteLiteral(HAD_ROLE)} FROM pg_roles WHERE rolname = ${name};`,
    `SELECT ${quoteLiteral(HAD_SUPERUSER)} FROM pg_roles WHERE ${superuser};`,
    `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${name}) THEN CREATE ROLE ${role} SUPERUSER LOGIN; ELSE ALTER ROLE ${role} SUPERUSER LOGIN; END IF; END$$;`,
    `SELECT ${quoteLiteral(HAS_SUPERUSER)} FROM pg_roles WHERE ${superuser};`,
    '',
  ].join('\n');
  // template1 is in every copy (diff's DB1 leaves out the other databases). Its dynamic
  // shared memory in the data folder (mmap), not in /dev/shm: when a run is interrupted
  // its folders may go before this session has ended, which then leaves nothing behind.
  const args = ['--single', '-D', dataDir, '-c', 'fsync=off', '-c', 'dynamic_shared_memory_type=mmap', 'template1'];
  const result = await runProgram(serverProgram(config, 'postgres'), args, { env: config.env, user, input, timeoutMs: 600_000 });
  const said = (marker: string): boolean => result.stdout.includes(marker);
  if (result.code !== 0 || said(HAD_SUPERUSER) || !said(HAS_SUPERUSER)) return undefined;
  if (said(HAD_ROLE)) return (subject) => `the backup's role ${user.name}, the one the tool connects as, is not a superuser that logs in: ${subject} makes it one`;
  return (subject) => `the backup's cluster has no role ${user.name}, the one the tool connects as: ${subject} gets it, as a superuser`;
}

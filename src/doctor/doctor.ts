import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, MAX_SOCKET_PATH, socketFile, type LayoutSettings } from '../cluster/cluster-layout.js';
import { resolvePreloadLibraries, type PreloadSettings } from '../cluster/preload-libraries.js';
import type { Config } from '../base/config.js';
import { silentLogger } from '../base/log.js';
import { isRoot, lookupUser, userCanReach, type ServerAccount } from '../cluster/os-user.js';
import { clearLeftovers, describeLeftover, findLeftovers, isClusterLeftover, type Leftover } from '../cluster/leftovers.js';
import type { RunDirSettings } from '../cluster/run-dir.js';
import { clearDeadTestDatabases, connectAdmin, ownerOf } from '../sqltest/test-clones.js';
import { TEST_DATA_FILE } from '../deploy/patch.js';
import { isLocalUrl } from '../pg/db.js';
import { isProcessAlive } from '../base/pids.js';
import { resolveTargetUrl, type TargetSettings } from '../cluster/target.js';
import { locatePgProgram, locateProgram, type PgProgram, type PgPrograms } from '../pg/pg-bin.js';
import { runProgram } from '../base/process.js';
import { redactUrl } from '../base/redact.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** --fix: clear what crashes left (dead runs' folders, RAM data, servers, test clones, stale locks, partial backups, scratch folders, temp files). */
  fix?: boolean;
}

const REQUIRED: PgProgram[] = ['initdb', 'postgres', 'psql'];
const OPTIONAL: PgProgram[] = ['pg_dump', 'pg_basebackup'];

async function programCheck(config: PgPrograms, name: PgProgram, required: boolean): Promise<DoctorCheck> {
  const found = locatePgProgram(config, name);
  if (!found) {
    return { name: `program ${name}`, status: required ? 'fail' : 'warn', detail: 'not found (install PostgreSQL or set PG_BIN_DIR)' };
  }
  const version = await runProgram(found, ['--version'], { env: config.env, timeoutMs: 5000 }).catch(() => undefined);
  return { name: `program ${name}`, status: 'ok', detail: `${found} (${version?.stdout.trim() || 'version unknown'})` };
}

async function preloadCheck(config: PreloadSettings & Pick<Config, 'confFile'>): Promise<DoctorCheck> {
  if (config.confFile) return { name: 'preload libraries', status: 'ok', detail: 'PG_CONF_FILE is set; its settings apply' };
  if (!config.preloadLibraries.trim()) return { name: 'preload libraries', status: 'ok', detail: 'none requested' };
  try {
    const found = await resolvePreloadLibraries({ ...config, preloadLibrariesExplicit: true }, silentLogger);
    return { name: 'preload libraries', status: 'ok', detail: `${found.join(', ')} available` };
  } catch (error) {
    const status: CheckStatus = config.preloadLibrariesExplicit ? 'fail' : 'warn';
    return { name: 'preload libraries', status, detail: (error as Error).message };
  }
}

function variableChecks(config: Pick<Config, 'localDir' | 'workingDir' | 'dbUrl' | 'pgUrlVar' | 'pgUrlFromVar'>): DoctorCheck[] {
  return [
    config.localDir
      ? { name: 'LOCAL_DIR', status: 'ok', detail: config.localDir }
      : { name: 'LOCAL_DIR', status: 'warn', detail: 'not set (needed by hydrate, patch, test, diff…)' },
    config.workingDir
      ? { name: 'PG_WORKING_DIR', status: 'ok', detail: config.workingDir }
      : { name: 'PG_WORKING_DIR', status: 'fail', detail: 'not set, and no LOCAL_DIR to default it' },
    config.dbUrl
      ? { name: 'DB_URL', status: 'ok', detail: redactUrl(config.dbUrl) }
      : config.pgUrlFromVar
        ? { name: 'DB_URL', status: 'ok', detail: `not set; the URL comes from ${config.pgUrlVar}` }
        : { name: 'DB_URL', status: 'warn', detail: `not set, nor ${config.pgUrlVar} (the commands fall back to the running cluster of PG_WORKING_DIR)` },
  ];
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

function folderChecks(config: LayoutSettings): DoctorCheck[] {
  if (!config.workingDir) return [];
  const checks: DoctorCheck[] = [];
  const stat = fs.statSync(config.workingDir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) {
    checks.push({ name: 'working dir', status: 'fail', detail: `${config.workingDir} is not a folder` });
  } else {
    const existing = nearestExisting(config.workingDir);
    try {
      fs.accessSync(existing, fs.constants.W_OK);
      checks.push({ name: 'working dir', status: 'ok', detail: `${config.workingDir} (writable)` });
    } catch {
      checks.push({ name: 'working dir', status: 'fail', detail: `${existing} is not writable` });
    }
  }
  const layout = clusterLayout(config);
  const socket = socketFile(path.join(layout.workingDir, 'sock'), layout.port);
  checks.push(
    layout.sockDirRelocated
      ? { name: 'socket path', status: 'warn', detail: `${socket} exceeds ${MAX_SOCKET_PATH} bytes; the socket goes to ${layout.sockDir}` }
      : { name: 'socket path', status: 'ok', detail: `${Buffer.byteLength(socket)} of ${MAX_SOCKET_PATH} bytes` },
  );
  return checks;
}

/**
 * As root the cluster runs as PG_OS_USER, which must exist and reach the working dir
 * (and, for check and diff, $LOCAL_DIR/focus): a project under /root (mode 0700) fails.
 */
async function serverAccountCheck(config: ServerAccount & Pick<Config, 'env' | 'workingDir' | 'localDir'>): Promise<DoctorCheck> {
  const name = 'server account';
  if (!isRoot(config)) return { name, status: 'ok', detail: 'not root: the cluster runs as you' };
  const user = lookupUser(config.osUser);
  if (!user) return { name, status: 'fail', detail: `running as root, but PG_OS_USER '${config.osUser}' does not exist` };
  const folders = [...new Set([config.workingDir, config.localDir && path.join(config.localDir, 'focus')].filter((dir): dir is string => Boolean(dir)))];
  for (const folder of folders) {
    const existing = nearestExisting(folder);
    if (!(await userCanReach(config.env, existing, user, false))) {
      return {
        name,
        status: 'fail',
        detail: `running as root: the cluster runs as ${user.name}, who cannot reach ${existing} (a parent folder is not traversable, e.g. /root is mode 0700), so postgres-init would fail; put the project elsewhere or set PG_OS_USER`,
      };
    }
  }
  const reach = folders.length > 0 ? `, who can reach ${folders.join(' and ')}` : '';
  return { name, status: 'ok', detail: `running as root: the cluster runs as ${user.name} (uid ${user.uid})${reach}` };
}

/** The database the commands would work on, when it is on this machine and answers. */
function localTarget(config: TargetSettings): string | undefined {
  try {
    return resolveTargetUrl(config);
  } catch {
    return undefined;
  }
}

/** Everything crashes left on this machine that doctor knows of (see cluster/leftovers.ts). */
function findAllLeftovers(config: Pick<Config, 'localDir' | 'workingDir' | 'cacheDir' | 'profileDir'>): Leftover[] {
  return findLeftovers({
    focusDirs: config.localDir ? [path.join(config.localDir, 'focus')] : [],
    scanServers: true,
    workingDirs: config.workingDir ? [config.workingDir] : [],
    tempDirs: [config.cacheDir],
    tempNames: config.profileDir ? [path.join(config.profileDir, `.${TEST_DATA_FILE}`)] : [],
    testRamFolders: true,
  });
}

/** One line on `found`; with `fix`, they are cleared first. */
async function leftoverCheck(config: RunDirSettings, name: string, found: readonly Leftover[], fix: boolean): Promise<DoctorCheck> {
  if (found.length === 0) return { name, status: 'ok', detail: 'none' };
  if (!fix) {
    return { name, status: 'warn', detail: `${found.map(describeLeftover).join('; ')} — \`database doctor --fix\` clears them` };
  }
  const cleared = await clearLeftovers(config, found);
  const left = found.filter((leftover) => !cleared.includes(leftover));
  return left.length === 0
    ? { name, status: 'ok', detail: `cleared ${cleared.map(describeLeftover).join('; ')}` }
    : { name, status: 'warn', detail: `could not clear ${left.map(describeLeftover).join('; ')}` };
}

/**
 * Run folders, RAM data and locks of dead runs ('leftover clusters'), and the files
 * killed commands left ('leftover files': partial backups, scratch folders, temp files,
 * RAM folders of test runs); with `fix`, cleared. Test clones go first: dropping a dead
 * run's RAM tablespace on the server is cleaner than removing its folder under it.
 */
async function leftoverChecks(config: TargetSettings & Pick<Config, 'localDir' | 'cacheDir' | 'profileDir' | 'env'>, fix: boolean): Promise<DoctorCheck[]> {
  const clones = await testCloneCheck(config, fix);
  const found = findAllLeftovers(config);
  return [
    await leftoverCheck(config, 'leftover clusters', found.filter(isClusterLeftover), fix),
    await leftoverCheck(config, 'leftover files', found.filter((leftover) => !isClusterLeftover(leftover)), fix),
    clones,
  ];
}

/** Test databases and tablespaces (`dbtool_test_<pid>…`) on the server whose run is gone. */
async function deadTestDatabases(admin: Awaited<ReturnType<typeof connectAdmin>>): Promise<string[]> {
  const found = await admin.query<{ name: string }>(
    `SELECT datname AS name FROM pg_database WHERE datname ~ '^dbtool_test_[0-9]+_[0-9]+$'
     UNION ALL SELECT spcname FROM pg_tablespace WHERE spcname ~ '^dbtool_test_[0-9]+$' ORDER BY 1`,
  );
  return found.rows.map((row) => row.name).filter((name) => {
    const owner = ownerOf(name);
    return owner !== undefined && owner !== process.pid && !isProcessAlive(owner);
  });
}

/** Copies of `database test` whose run died (`dbtool_test_<pid>_<n>`); with `fix`, dropped. */
async function testCloneCheck(config: TargetSettings, fix: boolean): Promise<DoctorCheck> {
  const url = localTarget(config);
  // On another machine's server a pid says nothing: those are left to their runs.
  if (!url || !isLocalUrl(url)) return { name: 'test clones', status: 'ok', detail: 'no database on this machine to look at' };
  let admin: Awaited<ReturnType<typeof connectAdmin>> | undefined;
  try {
    admin = await connectAdmin(url);
    const dead = await deadTestDatabases(admin);
    if (dead.length === 0) return { name: 'test clones', status: 'ok', detail: 'none left by dead runs' };
    if (!fix) return { name: 'test clones', status: 'warn', detail: `left by dead runs: ${dead.join(', ')} — \`database doctor --fix\` drops them` };
    const cleared = await clearDeadTestDatabases(admin, url, { selfPid: process.pid });
    return { name: 'test clones', status: 'ok', detail: `dropped ${[...cleared.databases, ...cleared.tablespaces].join(', ')}` };
  } catch (error) {
    return { name: 'test clones', status: 'ok', detail: `not checked (${(error as Error).message})` };
  } finally {
    await admin?.end().catch(() => undefined);
  }
}

/** The settings doctor looks at: the programs, preload libraries, folders, server account and target. */
export type DoctorSettings = PreloadSettings & TargetSettings & Pick<Config, 'confFile' | 'localDir' | 'cacheDir' | 'profileDir' | 'env'>;

/** Inspects the environment (`database doctor`); changes nothing unless `fix`. */
export async function examineEnvironment(config: DoctorSettings, options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  for (const name of REQUIRED) checks.push(await programCheck(config, name, true));
  for (const name of OPTIONAL) checks.push(await programCheck(config, name, false));
  checks.push(await preloadCheck(config));
  checks.push({
    name: 'program ssh',
    status: locateProgram(config.path, 'ssh') ? 'ok' : 'warn',
    detail: locateProgram(config.path, 'ssh') ?? 'not found (only pull_staging needs it)',
  });
  checks.push(...variableChecks(config), ...folderChecks(config), await serverAccountCheck(config));
  checks.push(...(await leftoverChecks(config, Boolean(options.fix))));
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

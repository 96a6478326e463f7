import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout, MAX_SOCKET_PATH, socketFile } from '../cluster/cluster-layout.js';
import { resolvePreloadLibraries } from '../cluster/cluster.js';
import type { Config } from '../base/config.js';
import { silentLogger } from '../base/log.js';
import { isRoot, lookupUser } from '../cluster/os-user.js';
import { locatePgProgram, locateProgram, type PgProgram } from '../pg/pg-bin.js';
import { runProgram } from '../base/process.js';

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

const REQUIRED: PgProgram[] = ['initdb', 'postgres', 'psql'];
const OPTIONAL: PgProgram[] = ['pg_dump', 'pg_basebackup'];

async function programCheck(config: Config, name: PgProgram, required: boolean): Promise<DoctorCheck> {
  const found = locatePgProgram(config, name);
  if (!found) {
    return { name: `program ${name}`, status: required ? 'fail' : 'warn', detail: 'not found (install PostgreSQL or set PG_BIN_DIR)' };
  }
  const version = await runProgram(found, ['--version'], { env: config.env, timeoutMs: 5000 }).catch(() => undefined);
  return { name: `program ${name}`, status: 'ok', detail: `${found} (${version?.stdout.trim() || 'version unknown'})` };
}

async function preloadCheck(config: Config): Promise<DoctorCheck> {
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

function variableChecks(config: Config): DoctorCheck[] {
  return [
    config.localDir
      ? { name: 'LOCAL_DIR', status: 'ok', detail: config.localDir }
      : { name: 'LOCAL_DIR', status: 'warn', detail: 'not set (needed by hydrate, patch, test, diff…)' },
    config.workingDir
      ? { name: 'PG_WORKING_DIR', status: 'ok', detail: config.workingDir }
      : { name: 'PG_WORKING_DIR', status: 'fail', detail: 'not set, and no LOCAL_DIR to default it' },
    config.dbUrl
      ? { name: 'DB_URL', status: 'ok', detail: config.dbUrl }
      : { name: 'DB_URL', status: 'warn', detail: 'not set (the migrator falls back to PGURL)' },
  ];
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

function folderChecks(config: Config): DoctorCheck[] {
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

function rootCheck(config: Config): DoctorCheck {
  if (!isRoot(config)) return { name: 'server account', status: 'ok', detail: 'not root: the cluster runs as you' };
  const user = lookupUser(config.osUser);
  if (!user) return { name: 'server account', status: 'fail', detail: `running as root, but PG_OS_USER '${config.osUser}' does not exist` };
  return { name: 'server account', status: 'ok', detail: `running as root: the cluster runs as ${user.name} (uid ${user.uid})` };
}

/** postgres servers whose data dir is a private check/diff cluster: leftovers of a crashed run. */
function leftoverCheck(): DoctorCheck {
  const leftovers: string[] = [];
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^[0-9]+$/.test(entry));
  } catch {
    return { name: 'leftover clusters', status: 'ok', detail: 'cannot inspect processes here' };
  }
  for (const pid of pids) {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const dataDir = args[args.indexOf('-D') + 1];
    if (args.indexOf('-D') >= 0 && dataDir && /\/(postgresql-check-|database-diff-)[^/]+\//.test(dataDir)) {
      leftovers.push(`pid ${pid}: ${dataDir}`);
    }
  }
  return leftovers.length === 0
    ? { name: 'leftover clusters', status: 'ok', detail: 'none' }
    : { name: 'leftover clusters', status: 'warn', detail: leftovers.join('; ') };
}

/** `database doctor`: inspects the environment; changes nothing. */
export async function doctorCommand(config: Config): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  for (const name of REQUIRED) checks.push(await programCheck(config, name, true));
  for (const name of OPTIONAL) checks.push(await programCheck(config, name, false));
  checks.push(await preloadCheck(config));
  checks.push({
    name: 'program ssh',
    status: locateProgram(config, 'ssh') ? 'ok' : 'warn',
    detail: locateProgram(config, 'ssh') ?? 'not found (only pull_staging needs it)',
  });
  checks.push(...variableChecks(config), ...folderChecks(config), rootCheck(config), leftoverCheck());
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  return report.checks.map((check) => `${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}\n`).join('');
}

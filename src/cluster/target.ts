/**
 * Which database a `database` subcommand works on (SPEC §5): --url, else $PG_URL_VAR,
 * else DB_URL, else the running cluster of PG_WORKING_DIR. The running project cluster
 * is the truth about how to reach it (SPEC §4, turn 4): a URL from the environment that
 * aims at the project's cluster where it does not run is pointed at where it runs, and
 * every disagreement is said in one line.
 */
import path from 'node:path';
import { disagreementNote, runningCluster, type ProjectCluster, type RunningCluster } from './cluster-connection.js';
import { clusterLayout, clusterUrl, type LayoutSettings } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { isLocalUrl, parseUrl } from '../pg/db.js';
import { conflictNote, urlParts } from '../pg/target-name.js';
import { MissingInputError, BadInputError } from '../base/errors.js';
import { redactUrl } from '../base/redact.js';
import { shown } from '../base/text.js';
import type { Logger } from '../base/log.js';

export interface TargetOptions {
  url?: string | undefined;
}

export interface Target {
  url: string;
  /** Where the URL came from: `--url`, the variable's name, or `the running cluster`. */
  source: string;
  /** One line each where the environment disagrees with itself or with the running cluster. */
  notes: string[];
}

/**
 * A URL from the environment that aims at the project cluster's socket folder, while
 * the cluster runs elsewhere (another port, PG_PORT from an --env-file): the running
 * cluster, keeping the URL's database and user. Aimed at it while it is stopped: one
 * line saying how to start it without losing its data.
 */
function aimAtRunningCluster(config: LayoutSettings, name: string, url: string, running: RunningCluster | undefined): Target {
  const parts = urlParts(url);
  const workingDir = config.workingDir;
  const target: Target = { url, source: name, notes: [] };
  if (!workingDir || !parts.host.startsWith('/')) return target;
  const projectSockets = [clusterLayout(config, workingDir).sockDir, path.join(workingDir, 'sock'), running?.layout.sockDir].filter(Boolean).map((dir) => path.normalize(dir!));
  if (!projectSockets.includes(path.normalize(parts.host))) return target;
  if (!running) {
    throw new MissingInputError(`${name} points at the project cluster in ${workingDir}, which is not running: start it with \`database init --reuse\` (keeps its data)`);
  }
  if (path.normalize(running.layout.sockDir) === path.normalize(parts.host) && String(running.layout.port) === parts.port) return target;
  const moved = clusterUrl(parts.user || running.user, { sockDir: running.layout.sockDir, port: running.layout.port, database: parts.database || running.layout.database });
  target.url = moved;
  target.notes.push(`${name} points at port ${parts.port} in ${parts.host}, but the project cluster runs on port ${running.layout.port} in ${running.layout.sockDir}: using the running cluster`);
  return target;
}

/** The settings that name the target: PG_URL_VAR and its value, DB_URL, and the project cluster. */
export type TargetSettings = ProjectCluster & Pick<Config, 'pgUrlVar' | 'pgUrlFromVar' | 'dbUrl'>;

export function resolveTarget(config: TargetSettings, options: TargetOptions = {}): Target {
  if (options.url) {
    parseUrl(options.url);
    return { url: options.url, source: '--url', notes: [] };
  }
  const running = runningCluster(config);
  const fromVar = config.pgUrlFromVar;
  const dbUrl = config.dbUrl;
  let target: Target;
  if (fromVar) {
    target = aimAtRunningCluster(config, config.pgUrlVar, fromVar, running);
    const note = dbUrl ? conflictNote([config.pgUrlVar, fromVar], ['DB_URL', dbUrl]) : undefined;
    if (note) target.notes.unshift(note);
  } else if (dbUrl) {
    target = aimAtRunningCluster(config, 'DB_URL', dbUrl, running);
  } else if (running) {
    const note = disagreementNote(running);
    target = { url: running.url, source: `the running cluster of ${running.layout.workingDir}`, notes: note ? [note] : [] };
  } else {
    throw new MissingInputError(
      `no database to work on: pass --url, set ${config.pgUrlVar} or DB_URL, or start the cluster (\`database init --reuse\` keeps its data)`,
    );
  }
  return target;
}

/** The target's URL; its notes go to `log` (one line each). */
export function resolveTargetUrl(config: TargetSettings, options: TargetOptions = {}, log?: Pick<Logger, 'warn'>): string {
  const target = resolveTarget(config, options);
  for (const note of target.notes) log?.warn(note);
  return target.url;
}

/** Destructive commands refuse a remote database unless the user insists (SPEC §12). */
export function assertLocalTarget(url: string, allowRemote: boolean | undefined): void {
  if (allowRemote || isLocalUrl(url)) return;
  throw new BadInputError(`refusing to change a non-local database (${shown(redactUrl(url))}); pass --allow-remote if you mean it`);
}

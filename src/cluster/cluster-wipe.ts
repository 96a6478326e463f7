/**
 * Wiping a cluster's data for a fresh start: what the wipe would lose (kept aside as
 * data.previous when it holds rows a user made), the trash folders a detached rm
 * deletes, and those a killed run abandoned.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scratchName, TRASH_PREFIX, type ClusterLayout } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { AmbiguousError } from '../base/errors.js';
import { removeBelow } from '../base/safe-remove.js';
import { serverPath } from './server-files.js';
import type { Logger } from '../base/log.js';
import { isProcessAlive } from '../base/pids.js';
import { removeInBackground } from '../base/process.js';
import { liveSockets, stopServer } from './server-process.js';
import { ramTablespaceDirs, removeRamDir } from './ram-storage.js';
import { holdsUserRelations } from './user-data.js';
import { BUILDING, builtState, readUserRows } from './user-rows.js';
import { runningCluster, type ProjectCluster } from './cluster-connection.js';

/**
 * Moves the old data out of the way and clears the socket folder. Data that holds rows
 * a user made (`keep`) becomes `data.previous`, replacing the one kept before (one
 * generation; `database restore --previous` swaps it back); anything else is renamed
 * to a trash folder that a detached rm deletes while we go on. Renames are instant. A
 * socket another live server listens on is never deleted.
 */
export async function wipeCluster(config: Pick<Config, 'env'>, layout: ClusterLayout, keep: boolean): Promise<void> {
  const busy = await liveSockets(layout.sockDir);
  if (busy.length > 0) {
    throw new AmbiguousError(`socket ${busy.join(', ')} is in use by another live server; not deleting it (stop that server, or use another PG_WORKING_DIR or PG_PORT)`);
  }
  if (fs.existsSync(layout.dataDir)) {
    // RAM tablespaces of the old cluster (a `database test` run's) go with it.
    for (const dir of ramTablespaceDirs(layout.dataDir)) removeRamDir(dir);
    const away = keep ? layout.previousDir : path.join(layout.workingDir, scratchName('old'));
    if (keep) moveToTrash(config, layout.workingDir, layout.previousDir);
    fs.renameSync(layout.dataDir, away);
    if (!keep) removeInBackground(config, away);
  }
  const sock = serverPath(layout, layout.sockDir);
  removeBelow(sock.anchor, sock.path);
}

/** Renames `dir` (if it exists) to a trash folder of the working dir and deletes it in the background. */
function moveToTrash(config: Pick<Config, 'env'>, workingDir: string, dir: string): void {
  if (!fs.existsSync(dir)) return;
  const trash = path.join(workingDir, scratchName('old'));
  fs.renameSync(dir, trash);
  removeInBackground(config, trash);
}

/** A trash folder nobody has touched for this long is not being deleted any more. */
const ABANDONED_TRASH_MS = 60_000;

/**
 * Deletes `.trash-*` folders left when a run (or its detached rm) was killed: their
 * maker is gone and nothing has changed in them for a minute.
 */
export function removeAbandonedTrash(config: Pick<Config, 'env'>, workingDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(workingDir).filter((entry) => entry.startsWith(TRASH_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/-([0-9]+)-[0-9a-z]+$/.exec(entry)?.[1]);
    const folder = path.join(workingDir, entry);
    const stat = fs.statSync(folder, { throwIfNoEntry: false });
    if (stat && !isProcessAlive(pid) && Date.now() - stat.mtimeMs > ABANDONED_TRASH_MS) removeInBackground(config, folder);
  }
}

/** What a wipe of the current data would lose, settled before the server stops. */
interface WipeLoss {
  /** Keep the data aside as `data.previous`. */
  keep: boolean;
  /** What it holds, for the warning: `3 rows in testdb:app.todo`, or `tables` when not countable. */
  holds?: string;
}

/**
 * Would a wipe lose rows a user made? Nothing made after initdb (told from the files) or
 * a deploy that never finished: no. A running server is asked (user-rows.ts): rows that
 * differ from what the last deploy built: yes. A stopped one cannot be asked without
 * starting it, so its tables count as worth keeping.
 */
async function wipeLoss(config: ProjectCluster, layout: ClusterLayout): Promise<WipeLoss> {
  if (!fs.existsSync(path.join(layout.dataDir, 'PG_VERSION')) || !holdsUserRelations(layout.dataDir)) return { keep: false };
  const built = builtState(layout.workingDir, layout.dataDir);
  if (built === BUILDING) return { keep: false };
  const running = runningCluster(config, layout.workingDir);
  if (!running) return { keep: true, holds: 'tables' };
  try {
    const found = await readUserRows(running.url);
    if (found.rows === 0 || found.fingerprint === built) return { keep: false };
    const shown = found.tables.slice(0, 3).join(', ') + (found.tables.length > 3 ? ', …' : '');
    return { keep: true, holds: `${found.rows} row${found.rows === 1 ? '' : 's'} in ${shown}` };
  } catch {
    return { keep: true, holds: 'tables' };
  }
}

/**
 * Stops the old server, and says in one line when the wipe that follows replaces rows a
 * user made — kept aside, and the command that brings them back.
 */
export async function stopForWipe(config: ProjectCluster, layout: ClusterLayout, log: Logger): Promise<WipeLoss> {
  const loss = await wipeLoss(config, layout);
  await stopServer(layout.dataDir);
  if (loss.keep) {
    log.warn(`a fresh start replaces the cluster holding ${loss.holds}; it is kept in ${layout.previousDir} until the next wipe: \`database restore --previous\` brings it back (\`database init --reuse\` keeps a cluster)`);
  }
  return loss;
}

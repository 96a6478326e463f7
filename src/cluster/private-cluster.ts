/**
 * Private, throw-away clusters for `check` and `diff`: unique per run, below
 * $LOCAL_DIR/focus/, never PG_WORKING_DIR, and always stopped and removed — on success,
 * failure, SIGINT and SIGTERM, and (through a watchdog) when the run is killed outright.
 */
import { initCluster, type ClusterSetup } from './cluster.js';
import { prepareSpare } from './spare-cluster.js';
import { templateFor, type TemplateSettings } from './template-cache.js';
import type { ClusterConnection } from './cluster-connection.js';
import type { Config, LocalDirSetting } from '../base/config.js';
import { interruptedBy, withCleanup } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { clusterLayout, type ClusterSettings, type LayoutSettings } from './cluster-layout.js';
import { clearLeftovers, findLeftovers } from './leftovers.js';
import { isRoot, serverUser, type ServerAccount } from './os-user.js';
import { linkRamDataDir, SHM } from './ram-storage.js';
import { throwAwaySpareHomes } from './ram-spares.js';
import { chownBelow, makeDirsBelow } from '../base/safe-files.js';
import { clearRunDir, createRunDir, focusDirOf, type RunDirSettings } from './run-dir.js';
import { startWatchdog } from './watchdog.js';

export { createRunDir, discardCluster } from './run-dir.js';

export interface PrivateClusterOptions {
  /** Keep the server logs in this folder after the cluster is removed (diff log). */
  logDir?: string;
  /** Start the data already in `<workingDir>/data` (a restored backup) instead of a fresh cluster. */
  existingData?: boolean;
}

/**
 * The settings of a private cluster: its logs in `logDir` (else inside its data
 * folder, never PG_LOG_PATH), its URL under the plain name PGURL.
 */
export function privateSettings(logDir?: string): ClusterSettings {
  return { logPath: logDir, urlVar: 'PGURL' };
}

/**
 * Starts a fresh cluster (or the data already there) in `workingDir` (a folder below a
 * run dir). A fresh one is a spare kept ready (renamed in: nothing to copy while we
 * wait), else a copy in RAM; once the run is over, its spares are refilled.
 */
export function startPrivateCluster(config: ClusterSetup, log: Logger, workingDir: string, options: PrivateClusterOptions = {}): Promise<ClusterConnection> {
  const existing = Boolean(options.existingData);
  // In RAM beside their data (ram-spares.ts), else the working dir (postgres-init's spares).
  const [spareFrom] = existing ? [] : throwAwaySpareHomes(config.workingDir, serverUser(config), { create: config.spares > 0, asRoot: isRoot(config) });
  return initCluster(config, log, {
    reuse: existing,
    // Data put there by other means (a restored backup) must hold the database.
    createDatabase: !existing,
    workingDir,
    spare: false,
    ramData: !existing,
    spareFrom,
    onDataSource: () => {
      if (spareFrom) spareHomesUsed.add(spareFrom);
    },
    settings: privateSettings(options.logDir),
  });
}

/** Where private clusters of this process looked for a spare (taken or not): refilled once the run is over. */
const spareHomesUsed = new Set<string>();

/**
 * Links `<workingDir>/data` of a private cluster that is filled by other means (a backup
 * unpacked, a restored copy renamed in) to a new folder in RAM, and returns that folder
 * (not made yet); undefined when the data stays on disk.
 */
export function linkPrivateRamData(config: ServerAccount & LayoutSettings, workingDir: string): string | undefined {
  return linkRamDataDir(clusterLayout(config, workingDir).dataDir, serverUser(config), isRoot(config));
}

/** Makes the RAM folder linkPrivateRamData returned, the server account's. */
export function makePrivateRamData(config: ServerAccount, target: string): void {
  const user = serverUser(config);
  // Its parent is the server account's already: made and handed over without following a link.
  makeDirsBelow(SHM, target, 0o700);
  if (isRoot(config)) chownBelow(SHM, target, user.uid, user.gid);
}

/** Clears what killed runs of this project left (their watchdog normally has already). */
async function clearProjectLeftovers(config: RunDirSettings & LocalDirSetting): Promise<void> {
  const leftovers = findLeftovers({ focusDirs: [focusDirOf(config)] });
  if (leftovers.length > 0) await clearLeftovers(config, leftovers);
}

/** What a run folder needs: its place, the leftovers of killed runs cleared, the spares its clusters took refilled. */
export type RunDirSetup = RunDirSettings & LocalDirSetting & TemplateSettings & ServerAccount & Pick<Config, 'spares'>;

/**
 * Runs `work` with a run dir that is removed afterwards whatever happens, except for
 * the entries named in `keep` (e.g. logs kept for `diff log`). A watchdog removes it
 * too if this process is killed.
 */
export async function withRunDir<T>(config: RunDirSetup, prefix: string, work: (runDir: string) => Promise<T>, keep: readonly string[] = []): Promise<T> {
  await clearProjectLeftovers(config);
  const runDir = createRunDir(config, prefix, keep);
  const watchdog = startWatchdog(config, { kind: 'run', runDir, keep: [...keep] });
  try {
    return await withCleanup(() => clearRunDir(config, runDir, keep), () => work(runDir));
  } finally {
    watchdog.release();
    if (!interruptedBy()) refillSpareHomes(config);
  }
}

/**
 * Refills the spares private clusters took, once the run is over: copying beside the
 * run would slow it down.
 */
function refillSpareHomes(config: TemplateSettings & ServerAccount & Pick<Config, 'database' | 'spares'>): void {
  const template = templateFor(config, serverUser(config), config.database);
  for (const dir of spareHomesUsed) prepareSpare(config, dir, template.key, template.dataDir);
  spareHomesUsed.clear();
}

/**
 * `database deploy` (SPEC §5): (re)start the project's cluster and build the database
 * in it — init (fresh unless --reuse) → hydrate → patch. It always works on the cluster
 * it started, never on PGURL/DB_URL. With --cleanup the cluster is stopped afterwards,
 * also when a step failed (the step's error, and so its exit code, is kept) or the run
 * is interrupted.
 */
import fs from 'node:fs';
import type { ClusterConnection } from '../cluster/cluster-connection.js';
import { initCluster, stopCluster, type ClusterSetup } from '../cluster/cluster.js';
import { BUILDING, readUserRows, recordBuilt } from '../cluster/user-rows.js';
import { freshDatabaseKeepingBranches } from '../cluster/branch-databases.js';
import { startWatchdog } from '../cluster/watchdog.js';
import { withWorkingDirLock } from '../cluster/working-dir-lock.js';
import { processIdentity } from '../base/pids.js';
import { requireWorkingDir } from '../base/config.js';
import type { LayoutSettings } from '../cluster/cluster-layout.js';
import { assertTablesExist } from './inherits.js';
import { throwIfInterrupted, withCleanup } from '../base/interrupt.js';
import type { Logger } from '../base/log.js';
import { hydrateDatabase, hydrateEntrypoint, type BaselineMigration, type EntrypointSettings, type HydrateResult, type HydrateSettings } from './hydrate.js';
import { patchDatabase, testDataFile, type PatchResult, type PatchSettings, type TestDataSetting } from './patch.js';

/** The settings the steps after init run with: hydrate's and patch's. */
export type DeployStepSettings = HydrateSettings & PatchSettings;

export interface DeployFlowOptions {
  /** -P/--no-patch */
  noPatch?: boolean;
  /** -H/--no-hydrate */
  noHydrate?: boolean;
  /** -m/--mock: hydrate with USE_MOCK=1. */
  mock?: boolean;
  /** --no-hook (check: -H): hydrate without the hectic bundle. */
  noHook?: boolean;
  /** The migrations on disk, recorded as the baseline of the build (the caller reads them). */
  baseline?: readonly BaselineMigration[];
  /** -i/--inherits: tables that must exist in the deployed database. */
  inherits?: readonly string[];
  /** Create a missing test-data.sql (deploy) or skip it (check). Default true. */
  createTestData?: boolean;
  /** Runs between hydrate and patch (check compares the sources, not their test data, with the migrations). */
  afterHydrate?: (hydrate: HydrateResult | undefined) => Promise<void>;
}

export interface DeployOptions extends DeployFlowOptions {
  /** -c/--cleanup: stop the cluster afterwards, whatever happened. */
  cleanup?: boolean;
  /** --reuse: keep the existing cluster and only (re)start it; no hydrate, no patch. */
  reuse?: boolean;
}

export interface DeployFlowResult {
  connection: ClusterConnection;
  hydrate: HydrateResult | undefined;
  patch: PatchResult | undefined;
}

export interface DeployResult extends DeployFlowResult {
  /** True when --cleanup stopped the cluster. */
  stopped: boolean;
}

/**
 * The steps after init, shared by deploy and check: hydrate and patch the started
 * cluster, then check --inherits. Stops between steps once the run is interrupted.
 */
export async function runDeploySteps(config: DeployStepSettings, log: Logger, connection: ClusterConnection, options: DeployFlowOptions): Promise<DeployFlowResult> {
  throwIfInterrupted();
  const hydrate = options.noHydrate
    ? undefined
    : await hydrateDatabase(config, log, connection.url, { mock: options.mock, noHook: options.noHook, baseline: options.baseline });
  throwIfInterrupted();
  await options.afterHydrate?.(hydrate);
  throwIfInterrupted();
  let patch: PatchResult | undefined;
  if (!options.noPatch) {
    const file = testDataFile(config);
    if (options.createTestData === false && !fs.existsSync(file)) log.info(`no ${file}; nothing to patch`);
    else patch = await patchDatabase(config, log, connection.url);
  }
  throwIfInterrupted();
  await assertTablesExist(connection.url, options.inherits ?? [], log);
  return { connection, hydrate, patch };
}

/**
 * Fails fast, before a cluster is (re)made, on what the steps will need: the hydrate
 * entrypoint (exit 3 / 1) and the folder of test-data.sql (exit 3).
 */
export function preflight(config: EntrypointSettings & TestDataSetting, options: DeployFlowOptions): void {
  if (!options.noHydrate) hydrateEntrypoint(config);
  if (!options.noPatch) testDataFile(config);
}

/** Stops the cluster; a failure to stop is reported but never hides the step's error. */
async function stopQuietly(config: LayoutSettings, log: Logger): Promise<void> {
  const workingDir = requireWorkingDir(config);
  try {
    const state = await stopCluster(config);
    log.info(state === 'stopped' ? `cluster stopped (${workingDir})` : `cluster was not running (${workingDir})`);
  } catch (error) {
    log.error(`could not stop the cluster of ${workingDir}: ${(error as Error).message}`);
  }
}

export async function deployProject(config: DeployStepSettings & ClusterSetup, log: Logger, options: DeployOptions = {}): Promise<DeployResult> {
  const workingDir = requireWorkingDir(config);
  const reuse = Boolean(options.reuse);
  if (!reuse) preflight(config, options);
  const deploy = async (): Promise<DeployFlowResult> => {
    // Other git branches' databases are kept: a fresh deploy then makes PG_DATABASE alone anew.
    const connection = (reuse ? undefined : await freshDatabaseKeepingBranches(config, log)) ?? (await initCluster(config, log, { reuse, workingDir }));
    if (reuse) {
      await assertTablesExist(connection.url, options.inherits ?? [], log);
      return { connection, hydrate: undefined, patch: undefined };
    }
    // What the build leaves, finished or failed half-way, is rebuildable: the next wipe
    // need not keep it unless its rows change (user-rows.ts).
    const { dataDir, previousDir } = connection.layout;
    recordBuilt(workingDir, dataDir, BUILDING, [previousDir]);
    try {
      return await runDeploySteps(config, log, connection, options);
    } finally {
      const rows = await readUserRows(connection.url).catch(() => undefined);
      if (rows) recordBuilt(workingDir, dataDir, rows.fingerprint, [previousDir]);
    }
  };
  // One run at a time per working dir: a postgres-init in another terminal waits for us.
  return withWorkingDirLock(workingDir, { command: 'database deploy', log }, async () => {
    if (!options.cleanup) return { ...(await deploy()), stopped: false };
    // --cleanup promised that no server outlives us: if we are killed outright, a
    // watchdog stops it (and removes nothing).
    const watchdog = startWatchdog(config, { kind: 'stop', workingDir, owner: processIdentity() });
    try {
      const result = await withCleanup(() => stopQuietly(config, log), deploy);
      return { ...result, stopped: true };
    } finally {
      watchdog.release();
    }
  });
}

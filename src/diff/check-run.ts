/**
 * `database check` (SPEC §5, §17): the deploy flow in a private, throw-away cluster under
 * `$LOCAL_DIR/focus/postgresql-check-<unique>/` — never PG_WORKING_DIR — that is
 * always stopped and removed: on success, failure, SIGINT and SIGTERM. Concurrent
 * checks each get their own folder and socket, so they never collide.
 *
 * Beside it, at the same time, a second private cluster runs the migrations alone from
 * an empty database; once the sources are hydrated (before their test data), the two
 * are compared with diff's comparison. A difference is the check's result (the CLI
 * shows diff's report and exits 1). `--no-migrations` skips the proof; a project
 * without migrations has nothing to prove.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { stopCluster } from '../cluster/cluster.js';
import { startPrivateCluster, withRunDir, type RunDirSetup } from '../cluster/private-cluster.js';
import type { ClusterSetup } from '../cluster/cluster.js';
import { preflight, runDeploySteps, type DeployFlowOptions, type DeployFlowResult, type DeployStepSettings } from '../deploy/deploy.js';
import { baselineFromDisk } from '../migrations/migration-baseline.js';
import type { DiffResult } from './diff-result.js';
import { buildFromMigrations, compareWithSources, migrationsToProve, type MigrationsBuild } from './migrations-proof.js';
import { allOrFirstError } from '../base/promises.js';

export const CHECK_RUN_PREFIX = 'postgresql-check';
/** The sources' cluster and the migrations', in the run folder. */
const SOURCES_CLUSTER = 'pg';
const MIGRATIONS_CLUSTER = 'mig';

export interface CheckOptions extends DeployFlowOptions {
  /** --no-migrations: do not prove that the migrations reproduce the sources. */
  noMigrations?: boolean;
}

export interface CheckResult {
  /** The run folder (already removed when the result is returned). */
  runDir: string;
  hydrated: boolean;
  patched: boolean;
  /** The migrations (DB1, from empty) compared with the sources (DB2); undefined when not proved. */
  migrations: DiffResult | undefined;
  /** Why the migrations were not proved, when the project has some (--no-migrations, --no-hydrate, -H). */
  migrationsSkipped: string | undefined;
}

/** Why the proof does not run although there are migrations; undefined when it runs (or there are none). */
function whyNoProof(options: CheckOptions, migrationDir: string | undefined): string | undefined {
  if (!migrationDir) return undefined;
  if (options.noMigrations) return '--no-migrations';
  if (options.noHydrate) return '--no-hydrate: no sources to compare them with';
  // The migrator always installs the bundle, whose inheritance rule -H is there to avoid.
  if (options.noHook) return '-H: the migrations run with the hectic bundle, the sources were built without it';
  return undefined;
}

/** Runs `database check` (see above); its result says whether the migrations reproduce the sources. */
export async function runCheck(config: RunDirSetup & ClusterSetup & DeployStepSettings & Pick<Config, 'migrationDir'>, log: Logger, options: CheckOptions = {}): Promise<CheckResult> {
  preflight(config, options);
  const found = migrationsToProve(config.migrationDir);
  const migrationsSkipped = whyNoProof(options, found);
  const migrationDir = migrationsSkipped ? undefined : found;
  if (!found) log.debug('check: no migrations to prove');
  return withRunDir(config, CHECK_RUN_PREFIX, async (runDir) => {
    log.debug(`check: private cluster in ${runDir}`);
    // Both builds start at once; short subfolder names keep the sockets under the OS limit.
    const migrations = migrationDir ? buildFromMigrations(config, log, path.join(runDir, MIGRATIONS_CLUSTER), migrationDir) : undefined;
    let proof: DiffResult | undefined;
    let stopping: Promise<void> = Promise.resolve();
    const compare = async (built: Promise<MigrationsBuild>, sourcesUrl: string, entrypoint: string): Promise<void> => {
      proof = await compareWithSources(config, log, built, { url: sourcesUrl, entrypoint, mock: Boolean(options.mock) });
      // Done with the migrations' server: it shuts down while the sources get their test
      // data. Its folder goes with the run folder, while the sources' server shuts down:
      // removing it meanwhile would keep this thread from seeing the test data's end.
      stopping = stopCluster(config, path.join(runDir, MIGRATIONS_CLUSTER)).then(() => undefined, () => undefined);
    };
    const sources = (async (): Promise<DeployFlowResult> => {
      const connection = await startPrivateCluster(config, log, path.join(runDir, SOURCES_CLUSTER));
      const baseline = baselineFromDisk(config.migrationDir, log);
      return runDeploySteps(config, log, connection, {
        ...options,
        baseline,
        createTestData: false,
        afterHydrate: migrations ? (hydrate) => compare(migrations, connection.url, hydrate?.entrypoint ?? '') : undefined,
      });
    })();
    // Neither build is left running when the other fails: both settle, then the first error counts.
    const both = allOrFirstError<[DeployFlowResult, MigrationsBuild | undefined]>([sources, migrations ?? Promise.resolve(undefined)]);
    const [built] = await both.catch(async (error: unknown) => {
      // The migrations' schema dump may be under way (the sources failed): no pg_dump outlives the check.
      await (await migrations?.catch(() => undefined))?.schema.catch(() => undefined);
      await stopping; // one stop of the migrations' server at a time: the run folder's cleanup comes next
      throw error;
    });
    await stopping;
    return { runDir, hydrated: built.hydrate !== undefined, patched: built.patch !== undefined, migrations: proof, migrationsSkipped };
  });
}

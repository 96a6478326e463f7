/**
 * `database patch` (SPEC §5): apply the developer's test data, `$PROFILE_DIR/test-data.sql`,
 * creating it first when missing; `--edit` opens `$EDITOR` on it before applying.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requirePath, type Config } from '../base/config.js';
import { EnvironmentError, ProgramFailedError } from '../base/errors.js';
import { assertTablesExist } from './inherits.js';
import type { Logger } from '../base/log.js';
import { runInteractive } from '../base/process.js';
import { runPsql } from '../pg/psql.js';
import { assertLocalTarget, resolveTargetUrl, type TargetSettings } from '../cluster/target.js';
import { relayNotices, stepOutputFile, userSqlCwd, type UserSqlSettings } from './user-sql.js';
import { makeDirs } from '../base/folders.js';

export const TEST_DATA_FILE = 'test-data.sql';

/** Written into a new test-data.sql so the developer knows what the file is for. */
export const TEST_DATA_HEADER = `-- test-data.sql: data for your local database, applied by \`database patch\`
-- (and by \`database deploy\` after the sources are hydrated, unless -P/--no-patch).
--
-- It runs through psql with ON_ERROR_STOP, so every psql feature works (\\i, \\ir, \\set,
-- \\if). Keep it re-runnable where you can, e.g.:
--
--   INSERT INTO shop.customer (email, name) VALUES ('dev@example.com', 'Dev')
--   ON CONFLICT (email) DO NOTHING;
--
-- Rows of immutable tables (those inheriting hectic.immutable) can only change in
-- migration mode:  BEGIN; SET LOCAL hectic.migration_mode = 'on'; …; COMMIT;
-- \`database pull_staging\` replaces this file with a dump of the staging tables.
-- Never put secrets here: they belong in the dotenv file that hydrate loads.

`;

export interface PatchStepOptions {
  /** -e/--edit: open $EDITOR on the file before applying it. */
  edit?: boolean;
}

export interface PatchOptions extends PatchStepOptions {
  url?: string;
  allowRemote?: boolean;
  /** -i/--inherits: tables that must exist before the test data is applied. */
  inherits?: readonly string[];
}

export interface PatchResult {
  url: string;
  file: string;
  /** True when the file did not exist and was created with the header. */
  created: boolean;
  edited: boolean;
  outputFile: string | undefined;
}

/** The setting that places test-data.sql: PROFILE_DIR (else LOCAL_DIR). */
export type TestDataSetting = Pick<Config, 'profileDir'>;

/** The settings patch runs with: test-data.sql, the editor of --edit, and how user SQL runs. */
export type PatchSettings = TestDataSetting & Pick<Config, 'editor'> & UserSqlSettings;

/** `$PROFILE_DIR/test-data.sql` (exit 3 when neither PROFILE_DIR nor LOCAL_DIR is set). */
export function testDataFile(config: TestDataSetting): string {
  return path.join(requirePath(config.profileDir, 'PROFILE_DIR'), TEST_DATA_FILE);
}

/** `$PROFILE_DIR/test-data.sql`, created with a comment header when missing. */
export function ensureTestDataFile(config: TestDataSetting, log: Logger): { file: string; created: boolean } {
  const file = testDataFile(config);
  const dir = path.dirname(file);
  if (fs.existsSync(file)) return { file, created: false };
  try {
    makeDirs(dir);
    fs.writeFileSync(file, TEST_DATA_HEADER, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { file, created: false };
    throw new EnvironmentError(`cannot create ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  log.info(`created ${file} (add your test data there)`);
  return { file, created: true };
}

async function editFile(config: Pick<Config, 'editor' | 'env'>, file: string): Promise<void> {
  const code = await runInteractive(config.editor, [file], { env: config.env });
  if (code !== 0) throw new ProgramFailedError(`editor '${config.editor}' exited with ${code}; ${file} was not applied`);
}

/** Applies the test data to `url` (deploy and check call this on their own cluster). */
export async function patchDatabase(config: PatchSettings, log: Logger, url: string, options: PatchStepOptions = {}): Promise<PatchResult> {
  const { file, created } = ensureTestDataFile(config, log);
  if (options.edit) await editFile(config, file);
  const outputFile = stepOutputFile(config, 'patch');
  const result = await log.step(`patch ${file}`, () =>
    runPsql(config, `patch (${file})`, { url, file, output: outputFile, cwd: userSqlCwd(config) }),
  );
  relayNotices(result.stderr, log);
  if (outputFile) log.debug(`patch output appended to ${outputFile}`);
  return { url, file, created, edited: Boolean(options.edit), outputFile };
}

/** Patches the target of SPEC §5 (`database patch`), refused when remote unless allowed. */
export async function patchTarget(config: PatchSettings & TargetSettings, log: Logger, options: PatchOptions = {}): Promise<PatchResult> {
  const url = resolveTargetUrl(config, { url: options.url }, log);
  assertLocalTarget(url, options.allowRemote);
  await assertTablesExist(url, options.inherits ?? [], log);
  return patchDatabase(config, log, url, options);
}

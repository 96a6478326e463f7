/**
 * Which SQL test files `database test` runs (SPEC §5): every `*.sql` below
 * `$DATABASE_DIR/test/`, or the files and folders given, in name order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requirePath, type Config } from '../base/config.js';
import { BadInputError } from '../base/errors.js';

/** Every `*.sql` file below `dir`, in name order (byte order of the relative paths, as `ls -R` would sort them). */
function sqlFilesBelow(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.sql') && fs.statSync(full, { throwIfNoEntry: false })?.isFile()) found.push(full);
    }
  };
  walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The test files to run: a given file as it is (any extension), a given folder by its
 * `*.sql` files; nothing given → `defaultDir`. A path that does not exist → exit 1
 * naming it, before anything runs; a folder without `*.sql` files → exit 1 as well (a
 * test run that tests nothing must not look green). Each file once, in the order given.
 */
export function collectTestFiles(paths: readonly string[], defaultDir: string): string[] {
  const wanted = paths.length > 0 ? paths : [defaultDir];
  const files: string[] = [];
  for (const wantedPath of wanted) {
    const stat = fs.statSync(wantedPath, { throwIfNoEntry: false });
    if (!stat) throw new BadInputError(paths.length > 0 ? `test file not found: ${wantedPath}` : `test folder not found: ${wantedPath}`);
    if (!stat.isDirectory()) {
      files.push(wantedPath);
      continue;
    }
    const below = sqlFilesBelow(wantedPath);
    if (below.length === 0) throw new BadInputError(`no test files (*.sql) in ${wantedPath}`);
    files.push(...below);
  }
  return [...new Set(files)];
}

/** The files a run would test, in the order it tests them: PATHs (relative to `cwd`), else `$DATABASE_DIR/test/`. */
export function projectTestFiles(config: Pick<Config, 'databaseDir' | 'cwd'>, paths: readonly string[] = []): string[] {
  const defaultDir = paths.length > 0 ? '' : path.join(requirePath(config.databaseDir, 'DATABASE_DIR'), 'test');
  return collectTestFiles(paths.map((given) => path.resolve(config.cwd, given)), defaultDir);
}

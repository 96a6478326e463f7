// The project of the 64-short-files cases (51 against pg_prove, 52 with pg_cron against
// without): the example, deployed, and 64 test files that each read one table of it.
import fs from 'node:fs';
import path from 'node:path';
import { bin, ROOT, run, tempDir } from './lib.mjs';

export const SHORT_FILES = 64;

/** The example copied into a temp folder, with the test files in `short-tests/`. */
export function shortTestsProject() {
  const dir = tempDir('db-tool-bench-short-');
  fs.cpSync(path.join(ROOT, 'examples', 'shop'), dir, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
  const tests = path.join(dir, 'short-tests');
  fs.mkdirSync(tests);
  for (let i = 1; i <= SHORT_FILES; i += 1) {
    fs.writeFileSync(path.join(tests, `t${String(i).padStart(2, '0')}.sql`), "\\echo 1..1\nSELECT 'ok 1 - ' || count(*) || ' currencies' FROM shop.currency;\n");
  }
  return { dir, tests, files: fs.readdirSync(tests).sort(), clusters: [] };
}

/**
 * A project cluster of its own (postgres-init) with `preload`, the example deployed in it;
 * its URL and the variables postgres-init exports (POSTGRESQL_HOST…).
 */
export async function deployedCluster(project, name, preload) {
  const env = { LOCAL_DIR: project.dir, ENVIRONMENT: 'example', PG_WORKING_DIR: path.join(project.dir, name), PG_SHARED_PRELOAD_LIBRARIES: preload, HECTIC_LOG: 'warn' };
  project.clusters.push({ env });
  await run(bin('database'), ['deploy'], env);
  const init = await run(bin('postgres-init'), ['--reuse', '--env'], env);
  const exported = Object.fromEntries([...init.stdout.matchAll(/^export (\w+)='?([^'\n]*)'?$/gm)].map((m) => [m[1], m[2]]));
  if (!exported.PGURL) throw new Error(`postgres-init printed no PGURL: ${init.stdout}`);
  return { env, url: exported.PGURL, exported };
}

/** `database test -j 2` of the test files on `cluster`. */
export function runShortTests(project, cluster) {
  return run(bin('database'), ['--url', cluster.url, 'test', '-j', '2', project.tests], { LOCAL_DIR: project.dir, HECTIC_LOG: 'warn' });
}

/** Stops the project's clusters and removes its folder. */
export async function removeShortTestsProject(project) {
  for (const cluster of project.clusters) await run(bin('postgres-cleanup'), [], cluster.env, { allowFailure: true });
  fs.rmSync(project.dir, { recursive: true, force: true });
}

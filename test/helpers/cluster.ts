/**
 * A private cluster for a test, made by the real postgres-init. `stop()` stops it and
 * removes its folder; call it in afterAll/afterEach so a failing test cleans up too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseExports, runBin } from './cli.js';
import { makeTempDir } from './env.js';

export interface TestCluster {
  url: string;
  dir: string;
  workingDir: string;
  dataDir: string;
  /** Variables a project using this cluster needs (PG_WORKING_DIR, PGURL…). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestCluster(extraEnv: Record<string, string> = {}): Promise<TestCluster> {
  const dir = makeTempDir('db-tool-cluster-');
  const workingDir = path.join(dir, 'pg');
  const env = { PG_WORKING_DIR: workingDir, PG_SHARED_PRELOAD_LIBRARIES: '', ...extraEnv };
  const result = await runBin('postgres-init', ['--env'], { env });
  const stop = async (): Promise<void> => {
    await runBin('postgres-cleanup', [], { env });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (result.code !== 0) {
    await stop();
    throw new Error(`postgres-init failed (${result.code}): ${result.stderr}`);
  }
  const exported = parseExports(result.stdout);
  const url = exported.PGURL;
  if (!url) throw new Error(`postgres-init printed no PGURL: ${result.stdout}`);
  return { url, dir, workingDir, dataDir: path.join(workingDir, 'data'), env: { ...env, ...exported }, stop };
}

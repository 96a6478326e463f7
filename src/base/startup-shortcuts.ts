/**
 * The start-up shortcuts, all in one place (SPEC §13). Each buys a measured part of a
 * run's start, and says which Node needs it, so that it can go when that Node does:
 *
 * - A stand-in `navigator` while pg loads (Node 20 only): see `withNodeNavigator`.
 * - NODE_EXTRA_CA_CERTS handed over by the launcher (Node reads the file as it starts;
 *   with OpenSSL 3 that cost up to 30 ms a start, nodejs/node#40524, though Node 20.20
 *   and 22.23 measure no cost here): bin/db-tool-launcher does the half that must
 *   happen before Node starts; `takeHandedOverCaCerts`, `trustExtraCaCerts` and
 *   `withExtraCa` the rest.
 * - Node's module compile cache (Node 22.1 and later): `keepCompiledCode`, which every
 *   program calls before it loads the rest (src/cli/compile-cache.ts).
 */
import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import type pg from 'pg';
import { EnvironmentError } from './errors.js';
import { makeDirs, onlyChangeableBy } from './folders.js';

/**
 * pg asks at load time whether it runs in a Cloudflare Worker. Where `navigator` is
 * missing (Node 20; Node 21 added it) it builds a `Response` to find out, which loads
 * Node's whole fetch implementation: 12 ms more, on the way to every first query. So
 * Node 20 gets Node 21's answer, `navigator.userAgent` = "Node.js/…", while `load` runs,
 * and `navigator` is as it was afterwards.
 */
export async function withNodeNavigator<T>(load: () => Promise<T>): Promise<T> {
  const scope = globalThis as { navigator?: unknown };
  if (scope.navigator !== undefined) return load();
  scope.navigator = { userAgent: `Node.js/${process.versions.node.split('.')[0] ?? ''}` };
  try {
    return await load();
  } finally {
    delete scope.navigator;
  }
}

/**
 * The NODE_EXTRA_CA_CERTS file the launcher handed over as `DB_TOOL_EXTRA_CA_CERTS`
 * (Node itself started with NODE_EXTRA_CA_CERTS empty). Puts `env`, the environment
 * for child programs, back as the user set it.
 */
export function takeHandedOverCaCerts(env: Record<string, string>): string | undefined {
  const handedOver = env.DB_TOOL_EXTRA_CA_CERTS;
  if (handedOver === undefined) return env.NODE_EXTRA_CA_CERTS || undefined;
  delete env.DB_TOOL_EXTRA_CA_CERTS;
  if (handedOver) env.NODE_EXTRA_CA_CERTS = handedOver;
  else if (env.NODE_EXTRA_CA_CERTS === '') delete env.NODE_EXTRA_CA_CERTS;
  return handedOver || env.NODE_EXTRA_CA_CERTS || undefined;
}

let extraCaFile: string | undefined;

/**
 * Trusts the certificate authorities in `file` on TLS connections, as Node would have.
 * Process-wide, like the variable itself.
 */
export function trustExtraCaCerts(file: string | undefined): void {
  extraCaFile = file;
}

/** pg's `ssl` option with the extra authorities added, unless the URL names its own (sslrootcert). */
export async function withExtraCa(ssl: pg.ClientConfig['ssl'], file = extraCaFile): Promise<pg.ClientConfig['ssl']> {
  if (!ssl || !file) return ssl;
  const options = ssl === true ? {} : { ...ssl };
  if (options.ca !== undefined) return options;
  let extra: string;
  try {
    extra = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    throw new EnvironmentError(`NODE_EXTRA_CA_CERTS ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const { rootCertificates } = await import('node:tls');
  return { ...options, ca: [...rootCertificates, extra] };
}

type EnableCompileCache = (directory: string) => unknown;

/**
 * Lets Node keep the code it compiles of the tool's modules between runs (its module
 * compile cache, V8's code cache on disk, Node 22.1 and later; on Node 20 nothing
 * happens). Compiling them is most of a command's start after Node's own: on Node 22
 * `postgres-init` of a running cluster and `database status` take about 10 % less, a
 * diff starts its clusters about 15 ms sooner.
 *
 * Compiled code runs as it is found, so it is kept only where no other account can
 * change it: `node-compile-cache/` in the tool's cache folder, when that folder and every
 * folder above it are this account's or root's and no one else may write there (a
 * `sudo -E` run with another user's HOME compiles as before). Node never fails a run
 * for its cache (a full disk, a read-only HOME); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
export function keepCompiledCode(toolCacheDir: string): void {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (!enable || typeof process.geteuid !== 'function') return;
  try {
    const dir = path.join(toolCacheDir, 'node-compile-cache');
    makeDirs(dir, { mode: 0o700 });
    const real = fs.realpathSync(dir);
    if (onlyChangeableBy(real, process.geteuid())) enable(real);
  } catch {
    // No folder for it (a read-only HOME, a file in the way): compiled as without the cache.
  }
}

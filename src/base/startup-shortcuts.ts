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
 */
import fs from 'node:fs';
import type pg from 'pg';
import { EnvironmentError } from './errors.js';

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

/**
 * NODE_EXTRA_CA_CERTS for our TLS connections. Node 20 reads and parses that file as it
 * starts (30 ms on every command, most of which never open a TLS connection), so the
 * bin/ launchers start Node without it and hand it over (see handedOverCaCerts in
 * base/config.ts); pg connections then add the certificates themselves. Its own module:
 * the CLI sets it at start-up without loading the driver.
 */
import fs from 'node:fs';
import type pg from 'pg';
import { EnvironmentError } from '../base/errors.js';

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

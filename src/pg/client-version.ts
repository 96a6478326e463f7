/**
 * Version-bound client programs (SPEC §14): pg_dump and pg_basebackup refuse a server
 * newer than themselves ("server version mismatch", "incompatible server version").
 * They are checked before they run, so a too-old one gives one line naming both
 * versions and how to get a matching program, instead of its own error after work began.
 */
import { MissingProgramError } from '../base/errors.js';
import { runProgram } from '../base/process.js';
import { withClient } from './db.js';
import { pgProgram, type PgPrograms } from './pg-bin.js';

export type VersionBoundProgram = 'pg_dump' | 'pg_basebackup';

/** The leading version number: "15.14 (Debian 15.14-0+deb12u1)" → "15.14", "17beta2" → "17". */
export function parseVersion(text: string): string | undefined {
  return /(\d+(?:\.\d+)*)/.exec(text)?.[1];
}

/** Major release: 17 for "17.10", 9.6 for "9.6.24" (before 10 the major had two parts). */
export function majorVersion(version: string): number {
  const [first = 0, second = 0] = version.split('.').map(Number);
  return first >= 10 ? first : first + second / 10;
}

/** The one-line complaint when `program` at `clientVersion` is older than the server, else undefined. */
export function clientTooOldMessage(program: VersionBoundProgram, clientVersion: string, serverVersion: string, file: string): string | undefined {
  const needed = majorVersion(serverVersion);
  if (majorVersion(clientVersion) >= needed) return undefined;
  return (
    `${program} ${clientVersion} (${file}) is older than the server, PostgreSQL ${serverVersion}, and cannot work with it: ` +
    `install ${program} ${needed} or newer (Debian/Ubuntu: apt-get install postgresql-client-${needed}; Nix: postgresql_${needed}) ` +
    `and put it first on PATH or in PG_BIN_DIR`
  );
}

/** `SHOW server_version` of the server at `url`. */
export async function serverVersion(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? '';
  });
}

/**
 * `--version` of each program file asked this run: it does not change while we run (diff
 * and check dump twice, at the same time). Asked without blocking: the other side of a
 * diff is still being built meanwhile.
 */
const clientVersions = new Map<string, Promise<string | undefined>>();

function clientVersionOf(file: string, env: Readonly<Record<string, string>>): Promise<string | undefined> {
  let version = clientVersions.get(file);
  if (!version) {
    version = runProgram(file, ['--version'], { env, timeoutMs: 10_000 }).then(
      (result) => (result.code === 0 ? parseVersion(result.stdout) : undefined),
      () => undefined,
    );
    clientVersions.set(file, version);
  }
  return version;
}

/**
 * Locates `program` (exit 127 when missing) and makes sure it can work with a server at
 * `serverVersionText` (exit 127 naming both versions when it is older). A program that
 * does not tell its version is let through: it will report for itself.
 */
export async function versionBoundProgram(config: PgPrograms, program: VersionBoundProgram, serverVersionText: string): Promise<string> {
  const server = parseVersion(serverVersionText);
  const file = pgProgram(config, program, server === undefined ? undefined : majorVersion(server));
  const clientVersion = await clientVersionOf(file, config.env);
  if (clientVersion && server) {
    const message = clientTooOldMessage(program, clientVersion, server, file);
    if (message) throw new MissingProgramError(message);
  }
  return file;
}

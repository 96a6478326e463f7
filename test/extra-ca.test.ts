/**
 * NODE_EXTRA_CA_CERTS: the bin/ launchers start Node without it (Node 20 parses the file
 * at start-up, 30 ms on every run) and hand it to the tool, which trusts those
 * authorities on its own TLS connections and gives the variable back to the programs it
 * runs. Checked against a real server that speaks TLS with a certificate from a
 * throw-away authority.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { IS_ROOT, makeTempDir } from './helpers/env.js';
import { writeMigration } from './helpers/migrator.js';
import { freePort } from './helpers/sshd.js';

const PASSWORD = 'tls-secret';
let dir: string;
let cluster: TestCluster;
let port: number;
let caFile: string;
/** The cluster's superuser: `postgres` as root, the OS user otherwise (initdb names it after the server account). */
let superuser: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** An authority, and a certificate for localhost signed by it. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=db-tool test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName = DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'server.crt');
  // PostgreSQL reads its key only when no one else may: the server account's, mode 0600.
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  if (IS_ROOT) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
    fs.chownSync(path.join(dir, 'server.key'), uid as number, gid as number);
  }
}

function tlsUrl(): string {
  return `postgresql://${encodeURIComponent(superuser)}:${PASSWORD}@localhost:${port}/testdb?sslmode=verify-full`;
}

beforeAll(async () => {
  dir = makeTempDir('db-tool-extra-ca-');
  makeCertificates();
  caFile = path.join(dir, 'ca.crt');
  const conf = path.join(dir, 'postgresql.conf');
  fs.writeFileSync(conf, [
    "listen_addresses = '127.0.0.1'",
    'ssl = on',
    `ssl_cert_file = '${path.join(dir, 'server.crt')}'`,
    `ssl_key_file = '${path.join(dir, 'server.key')}'`,
    'fsync = off',
    '',
  ].join('\n'));
  port = await freePort();
  cluster = await startTestCluster({ PG_CONF_FILE: conf, PG_PORT: String(port) });
  superuser = execFileSync('psql', ['-X', '-q', '-At', '-d', cluster.url, '-c', 'SELECT current_user'], { encoding: 'utf8' }).trim();
  execFileSync('psql', ['-X', '-q', '-d', cluster.url, '-c', `ALTER ROLE CURRENT_USER PASSWORD '${PASSWORD}'`]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('NODE_EXTRA_CA_CERTS', () => {
  it('is trusted on TLS connections (sslmode=verify-full)', async () => {
    const trusted = await runBin('migrator', ['-u', tlsUrl(), 'init'], { env: { NODE_EXTRA_CA_CERTS: caFile, HECTIC_LOG: 'warn' } });
    expect(trusted.stderr).toBe('');
    expect(trusted.code).toBe(0);
    // Without the authority the same server is refused: the variable is what made it work.
    const untrusted = await runBin('migrator', ['-u', tlsUrl(), 'init']);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate/);
  });

  it('gives one clear line when the file cannot be read', async () => {
    const missing = path.join(dir, 'missing.crt');
    // HECTIC_LOG=warn: init names its target first (an info line); the error is the one line left.
    const result = await runBin('migrator', ['-u', tlsUrl(), 'init'], { env: { NODE_EXTRA_CA_CERTS: missing, HECTIC_LOG: 'warn' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`error: NODE_EXTRA_CA_CERTS ${missing} cannot be read: ENOENT`);
  });

  it('is kept from Node itself and given back to the programs the tool runs', async () => {
    const migrations = path.join(dir, 'migration');
    const seen = path.join(dir, 'seen');
    fs.mkdirSync(seen, { mode: 0o777 });
    fs.chmodSync(seen, 0o777);
    // psql's shell escape: psql's environment, and that of its parent, the tool's node.
    writeMigration(migrations, '20240101000000-env', {
      'up.sql': [
        `\\! printenv NODE_EXTRA_CA_CERTS > ${seen}/psql`,
        `\\! tr '\\0' '\\n' < /proc/$(awk '{print $4}' /proc/$PPID/stat)/environ | grep '^NODE_EXTRA_CA_CERTS' > ${seen}/node`,
        '',
      ].join('\n'),
      'down.sql': '',
    });
    const result = await runBin('migrator', ['-u', cluster.url, '-d', migrations, 'migrate', 'up'], { env: { NODE_EXTRA_CA_CERTS: caFile, HECTIC_LOG: 'warn' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(seen, 'psql'), 'utf8')).toBe(`${caFile}\n`);
    expect(fs.readFileSync(path.join(seen, 'node'), 'utf8')).toBe('NODE_EXTRA_CA_CERTS=\n');
  });
});

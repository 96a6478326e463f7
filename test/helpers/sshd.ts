/**
 * A real OpenSSH server on 127.0.0.1 for `pull_staging` tests: a free high port, a
 * throw-away host key and user key in a temp folder, started by the test, stopped in
 * afterAll. ssh reads ~/.ssh/config from the account's passwd home (not $HOME), so the
 * client configuration reaches the real /usr/bin/ssh through a two-line wrapper on
 * PATH that adds `-F <config>` and records each call (to prove when ssh never ran).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram } from './cli.js';
import { IS_ROOT, makeTempDir } from './env.js';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';

export interface TestSshd {
  /** The Host alias the client config defines (use as STAGING_SSH_HOST). */
  host: string;
  port: number;
  /** Folder to put first on PATH: holds the `ssh` wrapper. */
  binDir: string;
  /** How many times ssh was invoked so far. */
  calls(): number;
  log(): string;
  stop(): Promise<void>;
}

export function sshdAvailable(): boolean {
  return fs.existsSync(SSHD) && fs.existsSync(SSH) && fs.existsSync('/usr/bin/ssh-keygen');
}

/** A TCP port on 127.0.0.1 nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function keygen(file: string): Promise<void> {
  const result = await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'db-tool-test', '-f', file]);
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
}

export async function startSshd(): Promise<TestSshd> {
  const dir = makeTempDir('db-tool-sshd-');
  const port = await freePort();
  await keygen(path.join(dir, 'host_key'));
  await keygen(path.join(dir, 'user_key'));
  const user = os.userInfo().username;
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${path.join(dir, 'user_key.pub')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'ssh_config'),
    [
      'Host staging',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${path.join(dir, 'user_key')}`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const binDir = path.join(dir, 'bin');
  fs.mkdirSync(binDir);
  const callsFile = path.join(dir, 'ssh.calls');
  fs.writeFileSync(
    path.join(binDir, 'ssh'),
    `#!/bin/sh\necho called >> '${callsFile}'\nexec ${SSH} -F '${path.join(dir, 'ssh_config')}' "$@"\n`,
    { mode: 0o755 },
  );
  // sshd insists on its privilege separation folder when started as root.
  if (IS_ROOT) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let output = '';
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000; // sshd starts in well under a second, unless the machine is loaded
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`sshd did not start: ${output}`);
    }
    await sleep(20);
  }
  return {
    host: 'staging',
    port,
    binDir,
    calls: () => (fs.existsSync(callsFile) ? fs.readFileSync(callsFile, 'utf8').split('\n').filter(Boolean).length : 0),
    log: () => output,
    stop,
  };
}

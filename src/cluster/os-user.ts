/**
 * PostgreSQL refuses to run as root. When we are root (CI containers) the cluster is
 * owned and run by `PG_OS_USER`; otherwise by whoever runs the tool.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Config } from '../base/config.js';
import { EnvironmentError } from '../base/errors.js';
import { runProgram, type OsUser } from '../base/process.js';

export function isRoot(config: Pick<Config, 'euid'>): boolean {
  return config.euid === 0;
}

/** The settings that name the account running the server: PG_OS_USER, and whether we are root. */
export type ServerAccount = Pick<Config, 'osUser' | 'euid'>;

/** The account that owns and runs the cluster. */
export function serverUser(config: ServerAccount): OsUser {
  if (!isRoot(config)) {
    const info = os.userInfo();
    return { name: info.username, uid: info.uid, gid: info.gid, home: info.homedir };
  }
  const user = lookupUser(config.osUser);
  if (!user) {
    throw new EnvironmentError(
      `running as root, the cluster must run as PG_OS_USER='${config.osUser}', but that user does not exist ` +
        `(create it, e.g. 'useradd --system ${config.osUser}', or set PG_OS_USER to an unprivileged user)`,
    );
  }
  if (user.uid === 0) throw new EnvironmentError(`PG_OS_USER='${config.osUser}' is root; PostgreSQL refuses to run as root`);
  return user;
}

/** The accounts of the passwd database (files only: enough for containers and CI). */
function readPasswd(): OsUser[] {
  let passwd: string;
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return [];
  }
  const users: OsUser[] = [];
  for (const line of passwd.split('\n')) {
    const [login, , uid, gid, , home] = line.split(':');
    if (login && uid !== undefined && gid !== undefined) users.push({ name: login, uid: Number(uid), gid: Number(gid), home: home || '/' });
  }
  return users;
}

/** Looks an account up by name. */
export function lookupUser(name: string): OsUser | undefined {
  return readPasswd().find((user) => user.name === name);
}

/** Looks an account up by uid. */
export function lookupUid(uid: number): OsUser | undefined {
  return readPasswd().find((user) => user.uid === uid);
}

/**
 * True when `user` can enter `dir` (every parent traversable) and, with `write`, write
 * in it: asked of the account itself, so modes, groups and ACLs all count.
 */
export async function userCanReach(env: Config['env'], dir: string, user: OsUser, write: boolean): Promise<boolean> {
  const test = write ? 'cd "$1" && test -w "$1"' : 'cd "$1"';
  const probe = await runProgram('/bin/sh', ['-c', test, 'sh', dir], { env, user, timeoutMs: 5_000 });
  return probe.code === 0;
}

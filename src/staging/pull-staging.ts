/**
 * `database pull_staging` (SPEC §9): `pg_dump` on the staging host over
 * `ssh STAGING_SSH_HOST`, written to `$PROFILE_DIR/test-data.sql` atomically — a temp
 * file beside it (header, the dump streamed straight in, sequence resets) renamed over
 * the old file only when everything succeeded. ssh runs with BatchMode=yes; anything
 * else (port, key, jump host) belongs in ~/.ssh/config. The URL's password never
 * reaches a log or an error message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requirePath, type Config } from '../base/config.js';
import { MissingProgramError, BadInputError, EnvironmentError, ProgramFailedError } from '../base/errors.js';
import { throwIfInterrupted, withCleanup } from '../base/interrupt.js';
import { redact, type Logger } from '../base/log.js';
import { separateConnectionPassword } from '../base/redact.js';
import { locateProgram } from '../pg/pg-bin.js';
import { errnoCause, faultInText, isFsFault } from '../base/fs-faults.js';
import { runProgram } from '../base/process.js';
import { describeCommand } from '../base/shell-quote.js';
import { uniqueSuffix } from '../base/unique-name.js';
import { TEST_DATA_FILE } from '../deploy/patch.js';
import { clearDeadLeftovers } from '../cluster/leftovers.js';
import type { LayoutSettings } from '../cluster/cluster-layout.js';
import { fileHeader, readStagingSettings, remoteDumpCommand, sequenceResets, sshArguments } from './staging-dump.js';


export interface PullStagingResult {
  file: string;
  sshHost: string;
  tables: string[];
  /** Bytes of dump received. */
  dumpBytes: number;
}

/** The password of a connection URL or conninfo string, if it has one (to scrub it from any text we show). */
export function urlPassword(url: string): string | undefined {
  return separateConnectionPassword(url).password;
}

/** `redact`, and also every literal occurrence of the password (pg_dump may echo it elsewhere). */
export function scrub(text: string, password: string | undefined): string {
  let result = redact(text);
  if (password && password.length > 0) {
    for (const form of new Set([password, encodeURIComponent(password)])) result = result.split(form).join('***');
  }
  return result;
}

function isBlank(file: string, from: number): boolean {
  const size = fs.statSync(file).size;
  if (size <= from) return true;
  // Only a short tail can be all whitespace; a real dump starts with comments and SETs.
  if (size - from > 4096) return false;
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - from);
    fs.readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8').trim() === '';
  } finally {
    fs.closeSync(fd);
  }
}

function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** True when the folder's file system has no room left (a full disk hit while writing). */
function diskFull(dir: string): boolean {
  try {
    return fs.statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

/**
 * The settings a pull runs with: the STAGING_* variables, PROFILE_DIR, the PATH that
 * finds ssh, and the cluster settings that clear a killed pull's temp files.
 */
export type PullStagingSettings = Pick<Config, 'staging' | 'profileDir' | 'path' | 'env'> & LayoutSettings;

export async function pullStaging(config: PullStagingSettings, log: Logger, generator: string): Promise<PullStagingResult> {
  const settings = readStagingSettings(config);
  const profileDir = requirePath(config.profileDir, 'PROFILE_DIR');
  const ssh = locateProgram(config.path, 'ssh');
  if (!ssh) throw new MissingProgramError('required program not found: ssh (install OpenSSH: apt-get install openssh-client; Nix: openssh)');
  const password = urlPassword(settings.dbUrl);
  const target = path.join(profileDir, TEST_DATA_FILE);
  if (!fs.statSync(profileDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new BadInputError(`PROFILE_DIR is not a folder: ${profileDir}`);
  }
  // The temp files of killed pulls (and an ssh still writing into one) go first.
  await clearDeadLeftovers(config, { tempNames: [path.join(profileDir, `.${TEST_DATA_FILE}`)], only: ['temp file'] });
  const temp = path.join(profileDir, `.${TEST_DATA_FILE}.tmp-${uniqueSuffix()}`);
  const remote = remoteDumpCommand(settings);
  const args = sshArguments(settings.sshHost, remote.command);
  log.debug(`running ${scrub(describeCommand(ssh, args), password)}`);

  return withCleanup(
    async () => fs.rmSync(temp, { force: true }),
    async () => {
      const previousMode = fs.statSync(target, { throwIfNoEntry: false })?.mode;
      const fd = fs.openSync(temp, 'w', previousMode !== undefined ? previousMode & 0o777 : 0o644);
      let headerBytes: number;
      let dumpBytes: number;
      try {
        const header = fileHeader({ sshHost: settings.sshHost, tables: settings.tables, pulledAt: new Date(), generator });
        headerBytes = fs.writeSync(fd, header);
        const result = await log.step(`pg_dump of ${settings.tables.join(' ')} on ${settings.sshHost}`, () =>
          runProgram(ssh, args, { env: config.env, input: remote.stdin, stdout: fd, stderr: 'pipe' }),
        );
        if (result.code !== 0) {
          // Writing the dump here failed (a full disk): that is the news, not ssh.
          // ("Permission denied" in ssh's words is its authentication, not our folder.)
          const local = diskFull(profileDir) ? 'no space left on device' : [faultInText(result.stderr)].find((cause) => cause && /space|quota/.test(cause));
          if (local) throw new EnvironmentError(`pull_staging: ${local} in ${profileDir}; ${target} is unchanged`);
          const why = result.code === 255 ? 'ssh could not connect or authenticate' : `the remote pg_dump failed (exit ${result.code})`;
          throw new ProgramFailedError(`pull_staging: ${why}; ${target} is unchanged`, scrub(lastLines(result.stderr), password) || undefined);
        }
        if (result.stderr.trim()) log.debug(scrub(result.stderr.trim(), password));
        if (isBlank(temp, headerBytes)) throw new ProgramFailedError(`pull_staging: the remote pg_dump returned an empty dump; ${target} is unchanged`);
        dumpBytes = fs.fstatSync(fd).size - headerBytes;
        fs.writeSync(fd, sequenceResets(settings.tables));
        fs.fsyncSync(fd);
      } catch (error) {
        if (isFsFault(error)) throw new EnvironmentError(`pull_staging: ${errnoCause(error)} in ${profileDir}; ${target} is unchanged`);
        throw error;
      } finally {
        fs.closeSync(fd);
      }
      throwIfInterrupted();
      fs.renameSync(temp, target);
      return { file: target, sshHost: settings.sshHost, tables: settings.tables, dumpBytes };
    },
  );
}

/**
 * Shared by the test helpers: where the project is, and a clean environment for the
 * executables under test (nothing leaks in from the developer's shell).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin');
export const IS_ROOT = typeof process.geteuid === 'function' && process.geteuid() === 0;

/** One template cache for the whole suite, so initdb runs once per machine, not per test. */
export const TEST_CACHE = path.join(os.tmpdir(), `db-tool-test-cache-${process.getuid?.() ?? 0}`);

/** The base environment of every executable run by the tests. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    XDG_CACHE_HOME: TEST_CACHE,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    // No spare clusters copied in the background after every start: the suite starts
    // hundreds of clusters in fresh folders and takes almost none of their spares. The
    // tests of spares set PG_SPARES themselves.
    PG_SPARES: '0',
  };
  if (process.env.PG_BIN_DIR) env.PG_BIN_DIR = process.env.PG_BIN_DIR;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Room the suite's folders need in RAM: a few dozen clusters of about 60 MB at once, with margin. */
const RAM_ROOM_NEEDED = 2 * 1024 ** 3;

/**
 * The suite's folder in RAM, shared like /tmp (sticky, writable by all: the suite runs as
 * root and as ordinary users). `/dev/shm/dbt/` plus a name without its `db-tool-` is as
 * long as `/tmp/` plus the full name: a socket path a test builds below it fits in
 * sun_path's 107 bytes as it does in /tmp.
 */
const RAM_FOLDERS = '/dev/shm/dbt';
const RAM_DROPS = 'db-tool-';

let testFoldersRoot: string | undefined;

/**
 * Where the tests' folders go: RAM (/dev/shm) when it has room, else the temp folder.
 * Each cluster start copies the template (about 35 MB in 1,300 files) and the server
 * writes its files beside it: on an ext4 disk the copy alone costs about 1 s of kernel
 * time, in RAM about 0.1 s, and the suite starts hundreds. A machine whose /tmp is a
 * tmpfs (Fedora, Arch) runs the tool the same way. A small /dev/shm (64 MB in a default
 * Docker container) keeps the temp folder. `DB_TOOL_TEST_TMPDIR` names another place.
 */
function testFolders(): string {
  if (testFoldersRoot) return testFoldersRoot;
  testFoldersRoot = os.tmpdir();
  // Another place chosen for them (a roomier tmpfs; the disk, to compare).
  const chosen = process.env.DB_TOOL_TEST_TMPDIR;
  if (chosen) return (testFoldersRoot = path.resolve(chosen));
  try {
    const room = fs.statfsSync('/dev/shm');
    if (room.bavail * room.bsize < RAM_ROOM_NEEDED) return testFoldersRoot;
    try {
      fs.mkdirSync(RAM_FOLDERS, { mode: 0o1777 });
      fs.chmodSync(RAM_FOLDERS, 0o1777);
    } catch {
      // made by an earlier run (or another account's): checked below
    }
    // Used only as /tmp would be: a real folder, sticky and writable by all, of root's or ours.
    const stat = fs.lstatSync(RAM_FOLDERS);
    const owner = stat.uid === 0 || stat.uid === process.getuid?.();
    if (stat.isDirectory() && (stat.mode & 0o1777) === 0o1777 && owner) testFoldersRoot = RAM_FOLDERS;
  } catch {
    // no /dev/shm (not Linux): the temp folder
  }
  return testFoldersRoot;
}

/**
 * A temp folder on a disk (not in RAM), for what the tool does differently there (its
 * spares in RAM: src/cluster/ram-spares.ts). The server account can traverse it.
 */
export function makeDiskTempDir(prefix = 'db-tool-test-'): string {
  const TMPFS = 0x01021994;
  const onDisk = (dir: string): boolean => fs.existsSync(dir) && fs.statfsSync(dir).type !== TMPFS;
  const root = [os.tmpdir(), '/var/tmp'].find(onDisk);
  if (!root) throw new Error(`no temp folder on a disk: ${os.tmpdir()} and /var/tmp are in RAM`);
  const dir = fs.mkdtempSync(path.join(root, prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * A temp folder the server account can traverse (as root the cluster runs as
 * PG_OS_USER, which cannot enter a 0700 folder of root's).
 */
export function makeTempDir(prefix = 'db-tool-test-'): string {
  const root = testFolders();
  const name = root === RAM_FOLDERS && prefix.startsWith(RAM_DROPS) ? prefix.slice(RAM_DROPS.length) : prefix;
  const dir = fs.mkdtempSync(path.join(root, name));
  fs.chmodSync(dir, 0o755);
  return dir;
}

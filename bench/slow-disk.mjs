// A real slow block device for a bench case (root only): a loop device over a sparse
// file on this machine's disk, formatted ext4 and mounted, and throttled as a whole by a
// blkio rule on the root cgroup (cgroup v1: blkio.throttle.{read,write}_{bps,iops}_device
// for the loop's MAJ:MIN). A rule on the root group applies to every bio sent to the
// device whoever sends it: our processes, the peer's, detached servers and background
// rm, and the kernel's writeback and ext4's journal — which a rule on a child cgroup
// misses (cgroup v1 does not charge buffered writeback to the writer's group). Nothing
// else uses the loop device, so nothing else on the machine is slowed.
//
// Cold caches: before each timing, the file system is synced and remounted (untimed), so
// each run reads its files from the throttled device and no dirty data of the previous
// run is left to flush. Only this file system's cache goes (no global drop_caches): the
// PostgreSQL programs, node and the tool stay on the fast disk, warm, for both sides.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './lib.mjs';

const BLKIO = '/sys/fs/cgroup/blkio';
const RULES = ['read_bps', 'write_bps', 'read_iops', 'write_iops'];

function sh(program, args) {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Why a slow disk cannot be made here, or undefined when it can. */
export function slowDiskUnavailable() {
  if (process.getuid?.() !== 0) return 'needs root (a loop device, a mount and a blkio throttle)';
  if (!fs.existsSync(path.join(BLKIO, 'blkio.throttle.read_bps_device'))) return `no cgroup v1 blkio throttle at ${BLKIO}`;
  return undefined;
}

function isMounted(mountPoint) {
  try {
    sh('findmnt', ['--mountpoint', mountPoint]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The disk: `{ create() → { root, env }, beforeTimed(), remove(), notes() }`; `env` points
 * the tool's caches and temp folder at it too (a slow laptop's home and /tmp are on it).
 * Limits: `mbPerSecond` each way, `iops` each way; `cold`: remount before each timing
 * (else only sync, the file system's cache kept). `counters()`: what the device has
 * served so far ({ readBytes, writeBytes, reads, writes }).
 */
export function slowDisk({ mbPerSecond, iops, cold = true, sizeGb = 3 }) {
  let folder;
  let image;
  let device;
  let majorMinor;
  let mountPoint;
  let fallbacks = 0;

  const throttle = (values) => {
    for (const rule of RULES) fs.writeFileSync(path.join(BLKIO, `blkio.throttle.${rule}_device`), `${majorMinor} ${values[rule]}\n`);
  };
  // Without the block bitmap prefetch ext4 starts at each mount: a disk in use has long
  // read them, and the reads would compete with the timed run after each remount. Without
  // inode table readahead: the throttle counts bios before they merge, and that readahead
  // sends 32 one-block bios a disk serves as one request (measured: a cold diff's metadata
  // phase took 0.9 s instead of 0.1 s); without it each inode block read is one bio, one
  // seek on a disk.
  const mount = () => sh('mount', ['-o', 'noatime,no_prefetch_block_bitmaps,inode_readahead_blks=0', device, mountPoint]);

  async function unmount() {
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      try {
        sh('umount', [mountPoint]);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  return {
    async create() {
      folder = tempDir('db-tool-bench-slow-disk-');
      image = path.join(folder, 'disk.img');
      // A short path, as /tmp's: a server's socket path below the project must stay
      // under the OS limit of 107 bytes, as it does on this machine's disk.
      mountPoint = tempDir('dbt-slow-');
      fs.writeFileSync(image, '');
      fs.truncateSync(image, sizeGb * 1024 ** 3);
      device = sh('losetup', ['--find', '--show', '--direct-io=on', image]);
      majorMinor = sh('lsblk', ['--nodeps', '--noheadings', '--output', 'MAJ:MIN', device]).replace(/\s/g, '');
      // Inode tables and journal written now: ext4's lazy init would otherwise write in
      // the background through the throttle while we time.
      sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', device]);
      mount();
      fs.chmodSync(mountPoint, 0o755);
      const bytes = Math.round(mbPerSecond * 1024 ** 2);
      throttle({ read_bps: bytes, write_bps: bytes, read_iops: iops, write_iops: iops });
      const cache = path.join(mountPoint, 'cache');
      const tmp = path.join(mountPoint, 'tmp');
      fs.mkdirSync(cache, { mode: 0o755 });
      fs.mkdirSync(tmp);
      fs.chmodSync(tmp, 0o1777);
      return { root: mountPoint, env: { XDG_CACHE_HOME: cache, TMPDIR: tmp } };
    },
    async beforeTimed() {
      sh('sync', ['-f', mountPoint]);
      if (!cold) return;
      try {
        sh('umount', [mountPoint]);
        mount();
      } catch {
        // Something still holds a file there: cold all the same, machine-wide.
        fallbacks += 1;
        fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
      }
    },
    async remove() {
      // Each step even when an earlier one failed: the machine must be left as it was.
      const steps = [
        () => majorMinor && throttle({ read_bps: 0, write_bps: 0, read_iops: 0, write_iops: 0 }),
        async () => {
          if (!mountPoint || !isMounted(mountPoint)) return;
          // A detached background rm may still be deleting there; if it never ends, the
          // lazy unmount detaches the file system and lets it go with its last user.
          await unmount().catch(() => sh('umount', ['--lazy', mountPoint]));
        },
        () => device && sh('losetup', ['--detach', device]),
        () => folder && fs.rmSync(folder, { recursive: true, force: true }),
        () => mountPoint && !isMounted(mountPoint) && fs.rmdirSync(mountPoint),
      ];
      const failures = [];
      for (const step of steps) await Promise.resolve().then(step).catch((error) => failures.push(error.message));
      if (failures.length) throw new Error(`slow disk cleanup: ${failures.join('; ')}`);
    },
    counters() {
      const served = (file) => {
        const lines = fs.readFileSync(path.join(BLKIO, file), 'utf8').split('\n').filter((line) => line.startsWith(`${majorMinor} `));
        return Object.fromEntries(lines.map((line) => line.split(' ').slice(1)).map(([kind, value]) => [kind, Number(value)]));
      };
      const bytes = served('blkio.throttle.io_service_bytes_recursive');
      const ios = served('blkio.throttle.io_serviced_recursive');
      return { readBytes: bytes.Read ?? 0, writeBytes: bytes.Write ?? 0, reads: ios.Read ?? 0, writes: ios.Write ?? 0 };
    },
    notes: () => [
      `slow disk: loop device ${mbPerSecond} MB/s and ${iops} IOPS each way (blkio throttle on the device), ext4, ` +
        (cold ? 'synced and cache dropped (remount) before each timing' : 'synced before each timing, cache kept (warm)') +
        (fallbacks ? ` (${fallbacks} × by drop_caches: the file system was busy)` : ''),
    ],
  };
}

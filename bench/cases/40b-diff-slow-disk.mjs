// `database diff` on the example, next to the same work by hand, as 40-diff, but held on
// a slow disk (issue 22 §2: ≤ 0.3 × the floor "on a slow disk too"): the project (hence
// its working folder, backup and spare clusters), the tool's caches and temp folder, and
// the by-hand script's folder all live on it.
//
// "Slow disk" here: a loop device throttled as a whole to 30 MB/s and 150 IOPS each way
// (a laptop's hard disk, a small cloud volume), ext4 without inode table readahead (the
// throttle would count its one-block bios one by one), the page cache of that file system
// dropped (sync + remount, untimed) before each timing of either side: cold reads, no
// dirty data of the previous run left to flush (bench/slow-disk.mjs).
//
// What it cannot emulate: a seek's latency on a single request (the throttle delays only
// what exceeds the rate, so a lone small read is as fast as this machine's disk, and
// random costs the same as sequential per request), a disk shared with other work, and
// slow program files — PostgreSQL, node and the tool stay on the fast disk, warm. Both
// sides' servers run with fsync off, so a slow fsync is not measured either.
//
// 40c is the same with the cache kept (a diff soon after the last one). Needs root; not
// in the default run: `npm run bench -- slow-disk` runs both.
import { diffExampleCase } from '../diff-example.mjs';
import { slowDisk, slowDiskUnavailable } from '../slow-disk.mjs';

const NAME = 'diff (example, slow disk, cold)';
const unavailable = slowDiskUnavailable();

export default unavailable
  ? { name: NAME, onlyWhenNamed: true, skipped: unavailable }
  : diffExampleCase({ name: NAME, targetSeconds: 2, runs: 7, onlyWhenNamed: true, disk: slowDisk({ mbPerSecond: 30, iops: 150 }) });

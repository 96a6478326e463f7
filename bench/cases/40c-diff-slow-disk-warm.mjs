// `database diff` on the example next to the same work by hand, on the slow disk of 40b
// (a loop device throttled to 30 MB/s and 150 IOPS each way, bench/slow-disk.mjs), but
// with the cache kept: before each timing of either side the file system is only synced
// (no dirty data of the previous run left to flush), not remounted. A diff soon after
// the last one, when the spare clusters and the restored copy prepared in the background
// are still in the page cache; 40b is the cold case (the first diff of the day). Its
// header says what the throttle cannot emulate. Needs root; runs only when named:
// `npm run bench -- slow-disk`.
import { diffExampleCase } from '../diff-example.mjs';
import { slowDisk, slowDiskUnavailable } from '../slow-disk.mjs';

const NAME = 'diff (example, slow disk, warm)';
const unavailable = slowDiskUnavailable();

export default unavailable
  ? { name: NAME, onlyWhenNamed: true, skipped: unavailable }
  : diffExampleCase({ name: NAME, targetSeconds: 2, runs: 7, onlyWhenNamed: true, disk: slowDisk({ mbPerSecond: 30, iops: 150, cold: false }) });

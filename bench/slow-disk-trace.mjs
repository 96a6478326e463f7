// A diagnostic, not a bench case: which step of `database diff` waits on a cold slow disk,
// and for which files. `node bench/slow-disk-trace.mjs [runs]` (root; after npm run build)
// sets the example up on the slow disk of 40b, then, for each run: the peer, a cold cache,
// and one diff with two kernel tracepoints on, in a tracing instance of its own —
// block:block_rq_issue (the read requests sent to the device, metadata flagged) and
// filemap:mm_filemap_add_to_page_cache (the file pages read in). It prints each step's
// window (from the debug log) with the read requests issued in it (steps overlap: DB1
// and DB2 are built at once), and the files read, grouped by kind.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { diffExampleCase } from './diff-example.mjs';
import { slowDisk, slowDiskUnavailable } from './slow-disk.mjs';
import { bin, env, onInterrupt, tempDir } from './lib.mjs';

const EVENTS = ['block/block_rq_issue', 'filemap/mm_filemap_add_to_page_cache'];

/** A tracing instance of our own: tracefs mounted for it when the system has not. */
function openTracing() {
  let mounted;
  let root = '/sys/kernel/tracing';
  if (!fs.existsSync(path.join(root, 'instances'))) {
    mounted = tempDir('db-tool-bench-tracefs-');
    execFileSync('mount', ['-t', 'tracefs', 'nodev', mounted]);
    root = mounted;
  }
  const instance = path.join(root, 'instances', `db-tool-bench-${process.pid}`);
  fs.mkdirSync(instance);
  let closed = false;
  const write = (file, text) => fs.writeFileSync(path.join(instance, file), `${text}\n`);
  write('trace_clock', 'mono'); // process.hrtime's clock
  write('buffer_size_kb', '65536');
  return {
    start(dev) {
      write('events/block/block_rq_issue/filter', `dev == ${dev}`);
      write('events/filemap/mm_filemap_add_to_page_cache/filter', `s_dev == ${dev}`);
      write('trace', '');
      for (const event of EVENTS) write(`events/${event}/enable`, '1');
    },
    stop() {
      for (const event of EVENTS) write(`events/${event}/enable`, '0');
      return fs.readFileSync(path.join(instance, 'trace'), 'utf8');
    },
    close() {
      if (closed) return;
      closed = true;
      if (fs.existsSync(instance)) {
        for (const event of EVENTS) write(`events/${event}/enable`, '0');
        fs.rmdirSync(instance);
      }
      if (mounted) {
        execFileSync('umount', [mounted]);
        fs.rmdirSync(mounted);
      }
    },
  };
}

/** The kind of a file the diff read: which prepared copy it belongs to, which part. */
function fileKind(file) {
  if (!file) return 'a file made during the run';
  return file
    .replace(/^.*?\/focus\//, 'focus/')
    .replace(/^\/tmp\/dbt-slow-[^/]+\//, '')
    .replace(/\.spare-restored-[^/]+/, '<restored copy>')
    .replace(/\.spare-[^/]+/, '<spare>')
    .replace(/base\/\d+\/\d+(_fsm|_vm)?(\.\d+)?$/, 'base/<db>/<relation>$1')
    .replace(/global\/\d+(_fsm|_vm)?$/, 'global/<relation>$1')
    .replace(/pg_wal\/[0-9A-F]{24}$/, 'pg_wal/<segment>');
}

/** One diff under the tracepoints: its steps' windows and the reads in them. */
async function tracedDiff(state, disk, tracing, dev, root) {
  const inodes = new Map(
    execFileSync('find', [root, '-xdev', '-printf', '%i %p\\n'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => [Number(line.slice(0, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1)]),
  );
  await disk.beforeTimed(); // cold again: find has read the inodes and folders
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  tracing.start(dev);
  const started = now();
  const lines = [];
  await new Promise((resolve, reject) => {
    const child = spawn(bin('database'), ['diff'], { env: env(state.env), stdio: ['ignore', 'ignore', 'pipe'] });
    let pending = '';
    child.stderr.on('data', (chunk) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop();
      for (const line of parts) lines.push([now(), line]);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`diff exited ${code}`))));
  });
  const ended = now();
  const trace = tracing.stop();
  const requests = [];
  const files = new Map();
  for (const [, comm, at, event, rest] of trace.matchAll(/^\s*(\S+)-\d+\s+\[\d+\]\s+\S+\s+([\d.]+): (\w+): (.*)$/gm)) {
    if (event === 'block_rq_issue') {
      const flags = rest.split(' ')[1];
      if (flags.startsWith('R')) requests.push({ at: Number(at), meta: flags.includes('M') });
    } else {
      const inode = parseInt(rest.match(/ino (\w+)/)[1], 16);
      const kind = fileKind(inodes.get(inode));
      const entry = files.get(kind) ?? { inodes: new Set(), pages: 0, readers: new Set() };
      entry.inodes.add(inode);
      entry.pages += 1;
      entry.readers.add(comm);
      files.set(kind, entry);
    }
  }
  const steps = lines
    .map(([at, line]) => line.match(/✓ (.+?) ([0-9.]+) (ms|s)$/) && { at, match: line.match(/✓ (.+?) ([0-9.]+) (ms|s)$/) })
    .filter(Boolean)
    .map(({ at, match }) => ({ title: match[1].replace(/ \/\S+/g, ' …'), start: at - Number(match[2]) / (match[3] === 's' ? 1 : 1000), end: at }));
  const within = (step) => requests.filter((request) => request.at >= step.start && request.at <= step.end);
  const report = [`diff ${(ended - started).toFixed(2)} s, ${requests.length} read requests (${requests.filter((r) => r.meta).length} metadata: inodes, directories)`];
  for (const step of steps.sort((a, b) => a.start - b.start)) {
    const reads = within(step);
    report.push(`  ${step.title.padEnd(34)} ${(step.start - started).toFixed(2)}–${(step.end - started).toFixed(2)} s ${String(Math.round((step.end - step.start) * 1000)).padStart(5)} ms ${String(reads.length).padStart(4)} reads (${reads.filter((r) => r.meta).length} metadata)`);
  }
  report.push('  files read in (files, pages of 4 kB, by):');
  for (const [kind, entry] of [...files].sort((a, b) => b[1].pages - a[1].pages).slice(0, 12)) {
    report.push(`  ${String(entry.inodes.size).padStart(5)} ${String(entry.pages).padStart(6)}  ${kind} (${[...entry.readers].join(', ')})`);
  }
  return report.join('\n');
}

const unavailable = slowDiskUnavailable();
if (unavailable) {
  console.log(`slow-disk trace: skipped, ${unavailable}`);
  process.exit(0);
}
const disk = slowDisk({ mbPerSecond: 30, iops: 150 });
const benchCase = diffExampleCase({ name: 'trace', disk });
let tracing;
const stopListening = onInterrupt(async () => {
  tracing?.close();
  await benchCase.teardown();
});
try {
  const state = await benchCase.setup();
  const root = path.dirname(state.dir);
  const source = execFileSync('findmnt', ['--noheadings', '--output', 'SOURCE', '--mountpoint', root], { encoding: 'utf8' }).trim();
  const [major, minor] = execFileSync('lsblk', ['--nodeps', '--noheadings', '--output', 'MAJ:MIN', source], { encoding: 'utf8' }).trim().split(':').map(Number);
  tracing = openTracing();
  for (let run = 0; run < Number(process.argv[2] ?? 1); run += 1) {
    await benchCase.beforeEach(state); // the peer, then a cold cache
    const report = await tracedDiff(state, disk, tracing, (major << 20) | minor, root); // the kernel's dev_t
    console.log(report);
  }
} finally {
  stopListening();
  tracing?.close();
  await benchCase.teardown();
}

/**
 * npm run bench: times each case in bench/cases/ on the example project, next to the
 * raw floor (initdb + start + createdb in a shell) measured in the same run, and
 * prints medians, targets and ratios. A benchmark, not a test: nothing here fails CI.
 *
 * A case module default-exports { name, targetSeconds, runs, setup(), run(state), teardown(state) }.
 * A case timed next to a peer tool also has { peerName, peerTimes }: the peer's row is
 * printed after its own, with the ratio. `notes()` returns lines printed after the table
 * (a peak memory…); `onlyWhenNamed: true` keeps a slow case out of the default run
 * (`npm run bench -- NAME` runs it); `skipped: 'why'` names why a case cannot run here
 * (one note line instead of a row).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, ROOT, secondsOf } from './lib.mjs';

async function measure(benchCase) {
  const state = benchCase.setup ? await benchCase.setup() : undefined;
  const times = [];
  try {
    for (let i = 0; i < (benchCase.runs ?? 5); i += 1) {
      if (benchCase.beforeEach) await benchCase.beforeEach(state);
      times.push(await secondsOf(() => benchCase.run(state)));
    }
  } finally {
    if (benchCase.teardown) await benchCase.teardown(state);
  }
  return times;
}

const only = process.argv.slice(2);
const dir = path.join(ROOT, 'bench', 'cases');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort();
const rows = [];
const ratios = [];
const notes = [];
let floor;
for (const file of files) {
  const benchCase = (await import(path.join(dir, file))).default;
  const named = only.some((name) => file.includes(name) || benchCase.name.includes(name));
  if (only.length ? !named : benchCase.onlyWhenNamed) continue;
  if (benchCase.skipped) {
    notes.push(`${benchCase.name}: skipped, ${benchCase.skipped}`);
    continue;
  }
  process.stderr.write(`bench: ${benchCase.name} …\n`);
  const times = await measure(benchCase);
  const row = { name: benchCase.name, median: median(times), min: Math.min(...times), target: benchCase.targetSeconds ?? null, runs: times.length };
  if (benchCase.isFloor) floor = row.median;
  rows.push(row);
  if (benchCase.peerTimes?.length) {
    const peer = median(benchCase.peerTimes);
    rows.push({ name: benchCase.peerName, median: peer, min: Math.min(...benchCase.peerTimes), target: null, runs: benchCase.peerTimes.length });
    ratios.push(`${benchCase.name}: ${(row.median / peer).toFixed(2)} × ${benchCase.peerName.replace(/^peer: /, '')}`);
  }
  if (benchCase.notes) notes.push(...benchCase.notes());
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('case', 34)}${pad('median', 10)}${pad('min', 10)}${pad('target', 10)}${pad('vs target', 11)}vs floor`);
for (const row of rows) {
  const vsTarget = row.target ? `${(row.median / row.target).toFixed(2)}x` : '-';
  const vsFloor = floor ? `${(row.median / floor).toFixed(2)}x` : '-';
  const verdict = row.target ? (row.median <= row.target ? ' ok' : ' SLOW') : '';
  console.log(`${pad(row.name, 34)}${pad(`${row.median.toFixed(3)}s`, 10)}${pad(`${row.min.toFixed(3)}s`, 10)}${pad(row.target ? `${row.target}s` : '-', 10)}${pad(vsTarget + verdict, 11)}${vsFloor}`);
}
for (const ratio of ratios) console.log(ratio);
for (const note of notes) console.log(note);
// The Node the tool ran on (DB_TOOL_NODE, else node on PATH): Node 22.1+ keeps its compiled code (src/base/startup-shortcuts.ts).
const toolNode = process.env.DB_TOOL_NODE ?? 'node';
console.log(`the tool ran on Node ${execFileSync(toolNode, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '')} (${toolNode})`);

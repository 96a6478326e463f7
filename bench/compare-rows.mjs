// The data comparison of `database diff` alone, in a process of its own so that its
// peak memory is its own: compares table TABLE of two databases (built dist/) and
// prints one JSON line: rows per side, rows differing, peak RSS in MB.
//   node bench/compare-rows.mjs URL1 URL2 TABLE
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { compareData, selectTables } = require('../dist/diff/compare-data.js');
const { withClient } = require('../dist/pg/db.js');
const { formatTextReport } = require('../dist/cli/render/diff-report.js');

const [url1, url2, table] = process.argv.slice(2);
const data = await withClient(url1, (client1) =>
  withClient(url2, async (client2) => compareData(client1, client2, await selectTables(client1, client2, [table]))),
);
// The report is rendered too: it is part of what a user waits for.
const report = formatTextReport({
  identical: false, backup: '-', migrationsApplied: [], entrypoint: '-', mock: false,
  compared: { privileges: false, columnOrder: true }, schema: { onlyInDb1: [], onlyInDb2: [], changed: [], identical: 0 }, data,
});
const [result] = data;
console.log(JSON.stringify({
  rowsDb1: result.rowCountDb1,
  rowsDb2: result.rowCountDb2,
  onlyInDb1: result.rowsOnlyInDb1Count,
  onlyInDb2: result.rowsOnlyInDb2Count,
  reportLines: report.split('\n').length,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
}));

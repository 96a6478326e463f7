// diff --tables on a table of 10⁶ rows, one changed (issue 22): ≤ 2 × the floor, ≤ 200 MB.
import { rowsCase } from '../rows-table.mjs';

export default rowsCase({ name: 'diff rows (10^6)', rows: 1_000_000, runs: 3 });

// diff --tables on a table of 10⁷ rows, one changed (issue 22): it must finish with
// node's peak RSS ≤ 200 MB. Its setup alone takes minutes, so it runs only when named:
// `npm run bench -- 1e7`.
import { rowsCase } from '../rows-table.mjs';

export default rowsCase({ name: 'diff rows (10^7)', rows: 10_000_000, runs: 1, onlyWhenNamed: true });

// `database diff` on the example project (SPEC §13: ≤ 2 s and ≤ 0.3 × the floor; the
// shell tool took 2.8 s and reported differences on identical databases), next to the
// same work done by hand on the same backup and sources (bench/diff-example.mjs); the
// raw floor (00-floor) stays in the table's last column. 40b times it on a slow disk.
import { diffExampleCase } from '../diff-example.mjs';

export default diffExampleCase({ name: 'diff (example, identical)', targetSeconds: 2 });

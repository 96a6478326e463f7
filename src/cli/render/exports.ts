/** `postgres-init --env`: the connection as shell `export` lines. */
import type { ClusterConnection } from '../../cluster/cluster-connection.js';

/** `export NAME='value'` lines for `eval` (and for the sourced postgres-init); always single-quoted. */
export function formatExports(connection: ClusterConnection): string {
  return connection.exports.map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'\n`).join('');
}

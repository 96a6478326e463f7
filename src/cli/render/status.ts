/** `database status`: the report as aligned `label:  value` lines. */
import type { StatusReport } from '../../commands/status.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatStatus(report: StatusReport): string {
  const lines = [
    `cluster:    ${report.running ? `running (pid ${report.pid})` : 'not running'}`,
    `url:        ${report.url ?? '-'}`,
    `database:   ${report.database}`,
    `data dir:   ${report.dataDir}${report.dataSize === null ? ' (missing)' : ''}`,
    `postgres:   ${report.postgresVersion ?? '-'}`,
    `size:       ${report.dataSize === null ? '-' : formatBytes(report.dataSize)}`,
  ];
  if (report.previousDataDir) lines.push(`previous:   ${report.previousDataDir} (the cluster the last wipe replaced; \`database restore --previous\` brings it back)`);
  for (const note of report.notes) lines.push(`note:       ${note}`);
  if (report.migrations) {
    const baseline = report.migrations.baseline?.length ?? 0;
    const applied = `${report.migrations.applied.length} applied${baseline > 0 ? ` (${baseline} as the baseline of a build from the sources)` : ''}`;
    lines.push(`migrations: ${applied}, ${report.migrations.pending.length} pending`);
    for (const name of report.migrations.pending) lines.push(`  pending: ${name}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The one reviewed list of volatile parts of human output: what legitimately differs
 * between runs and machines (paths, times, pids, sizes, versions, the OS user). Snapshot
 * tests of human output filter through it, so a snapshot fails only when the output
 * itself changed. Add a pattern here only with a reason; never to hide a real change.
 */
export const VOLATILE_PATTERNS: ReadonlyArray<readonly [pattern: RegExp, replacement: string, why: string]> = [
  [new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '', 'colour codes (FORCE_COLOR in a developer shell)'],
  [/\/(?:tmp|dev\/shm)\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*/g, '<path>', 'temp folders of the test (random names)'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?/g, '<time>', 'timestamps'],
  [/\b\d{14}(?=-)/g, '<stamp>', 'migration and run folder timestamps'],
  [/\bpid \d+/g, 'pid <pid>', 'process ids'],
  [/\b\d+(?:\.\d+)? ?(?:ms|s)\b/g, '<duration>', 'durations'],
  [/\b\d+(?:\.\d+)? (?:B|kB|MB|GB|TB)\b/g, '<size>', 'sizes of folders and backups'],
  [/\b(?:1[5-9])(?:\.\d+)+(?: \([^)]*\))?/g, '<pg-version>', 'the PostgreSQL server version of this machine'],
  [/postgresql:\/\/[A-Za-z0-9_-]+@/g, 'postgresql://<user>@', 'the OS user running the cluster (root → postgres)'],
];

/** Output with every volatile part replaced by its placeholder. */
export function stable(text: string): string {
  return VOLATILE_PATTERNS.reduce((current, [pattern, replacement]) => current.replace(pattern, replacement), text);
}

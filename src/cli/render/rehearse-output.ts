/** `migrator rehearse`'s limits as the command line gives them, and its report as text or JSON. */
import { BadInputError } from '../../base/errors.js';
import { rehearsalJson, rehearsalLines } from './diff-migration.js';
import type { RehearseResult } from '../../diff/rehearse.js';

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** `500MB`, `1.5GB`, `8192`, `64kB` → bytes (units are powers of 1024, as PostgreSQL's). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = UNITS[(match?.[2] ?? 'x').toLowerCase()];
  if (!match || unit === undefined) throw new BadInputError(`--max-rewrite-size expects a size such as 500MB, 2GB or 8192 (bytes), got '${text}'`);
  return Math.round(Number(match[1]) * unit);
}

/** A non-negative number of milliseconds. */
export function parseMs(text: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(text.trim())) throw new BadInputError(`--max-lock-ms expects a number of milliseconds, got '${text}'`);
  return Number(text);
}

export function formatRehearseText(result: RehearseResult): string {
  if (result.migrations.length === 0) return '';
  return `${rehearsalLines(result.migrations).join('\n')}\n`;
}

export function rehearseJson(result: RehearseResult): unknown {
  return {
    ok: !result.exceeded,
    backup: result.backup,
    limits: { maxLockMs: result.thresholds.longLockMs, maxRewriteBytes: result.thresholds.largeTableBytes },
    migrations: rehearsalJson(result.migrations),
  };
}

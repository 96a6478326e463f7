import { readLogs, selectLog, type LogFile } from '../commands/log.js';
import { page } from './output.js';
import type { CliContext } from './run.js';

/**
 * `database log` and `database diff log`: `list` prints INDEX, NAME, BYTES per file; a
 * selector shows one file, no selector all of them (paged on a terminal).
 */
export async function showLogs(
  ctx: CliContext,
  listing: { dir: string; files: LogFile[] },
  selector: string | undefined,
  listCommand: string,
): Promise<void> {
  const { dir, files } = listing;
  if (files.length === 0) {
    ctx.log.warn(`no log files in ${dir}`);
    return;
  }
  if (selector === 'list') {
    ctx.out(files.map((file) => `${file.index}\t${file.name}\t${file.size}\n`).join(''));
    return;
  }
  await page(ctx, readLogs(selector === undefined ? files : [selectLog(files, selector, listCommand)]));
}

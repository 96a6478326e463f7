import { readLog, selectLog, type LogFile } from '../commands/log.js';
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
  await page(ctx, logsText(selector === undefined ? files : [selectLog(files, selector, listCommand)]));
}

/** One file as it is; several one after the other, each under a `==> NAME <==` header, as tail(1) shows them. */
function logsText(files: readonly LogFile[]): string {
  if (files.length === 1 && files[0]) return readLog(files[0]);
  return files.map((file) => `==> ${file.name} <==\n${readLog(file)}`).join('\n');
}

import { colorEnabled, stripAnsi } from '../base/log.js';
import { createPalette, type Palette } from '../base/palette.js';
import { runInteractive } from '../base/process.js';
import type { CliContext } from './run.js';

/** The styles of what goes to stdout: colour only on a terminal, as NO_COLOR/FORCE_COLOR say. */
export function stdoutPalette(ctx: CliContext): Palette {
  return createPalette(colorEnabled(ctx.stdoutIsTTY, ctx.config.noColor, ctx.config.forceColor));
}

/** True when `text` fits the terminal without scrolling (one row is left for the prompt). */
export function fitsScreen(text: string, size: { rows: number; columns: number }): boolean {
  const lines = stripAnsi(text).replace(/\n$/, '').split('\n');
  let rows = 0;
  for (const line of lines) rows += Math.max(1, Math.ceil(line.length / size.columns));
  return rows < size.rows;
}

/**
 * Shows text through $PAGER when stdout is a terminal and the text does not fit it;
 * plainly otherwise (pipes, files, short output). LESS defaults to FRX, so less keeps
 * its text on screen after quitting (see Config.pagerEnv).
 */
export async function page(ctx: CliContext, text: string): Promise<void> {
  if (!ctx.stdoutIsTTY || text.length === 0 || (ctx.terminal && fitsScreen(text, ctx.terminal))) {
    ctx.out(text);
    return;
  }
  const code = await runInteractive(ctx.config.pager, [], { env: ctx.config.pagerEnv, input: text });
  // The shell could not run the pager (PAGER names a missing program): show the text anyway.
  if (code === 126 || code === 127) {
    ctx.log.warn(`pager '${ctx.config.pager}' could not run (exit ${code}); printing instead`);
    ctx.out(text);
  }
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

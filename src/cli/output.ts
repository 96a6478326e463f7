import { runInteractive } from '../base/process.js';
import type { CliContext } from './run.js';

/** Shows long text through $PAGER on a terminal, plainly otherwise. */
export async function page(ctx: CliContext, text: string): Promise<void> {
  if (!ctx.stdoutIsTTY || text.length === 0) {
    ctx.out(text);
    return;
  }
  await runInteractive(ctx.config.pager, [], { env: ctx.config.env, input: text });
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

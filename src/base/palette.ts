/**
 * The few terminal styles we use, as plain ANSI codes. We decide ourselves whether a
 * stream gets colour (`colorEnabled` in log.ts: TTY, NO_COLOR, FORCE_COLOR), so all a
 * library would add is its own colour-support detection, which cost chalk about 10 ms of
 * every start-up (`migrator migrate up` is measured against dbmate, SPEC §13).
 */
export interface Palette {
  /** False: every style returns its text unchanged. */
  readonly enabled: boolean;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  gray(text: string): string;
}

/**
 * A style that survives nesting: an inner style's closing code would end the outer one
 * too (all colours close with 39), so the outer one is opened again after it.
 */
function style(open: number, close: number): (text: string) => string {
  const on = `\u001b[${open}m`;
  const off = `\u001b[${close}m`;
  return (text) => on + text.replaceAll(off, off + on) + off;
}

const plain = (text: string): string => text;

export function createPalette(enabled: boolean): Palette {
  if (!enabled) return { enabled, bold: plain, red: plain, green: plain, yellow: plain, cyan: plain, gray: plain };
  return {
    enabled,
    bold: style(1, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
    gray: style(90, 39),
  };
}

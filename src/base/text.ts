/** Small text helpers shared by reports and messages. */

/** `1 migration`, `2 migrations`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Longest echo of a user's value in a message (a URL, a folder name, an argument). */
export const SHOWN_VALUE_MAX = 200;

// C0 and C1 controls, DEL, and the Unicode line separators and bidi overrides, which
// would break a message's line or reorder what a terminal shows.
// eslint-disable-next-line no-control-regex -- control characters are what is escaped
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same, newline and tab allowed
const CONTROLS_BUT_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * Text made safe for one line of a terminal: control characters (newline, ESC, NUL, CR…)
 * written as escapes (`\n`, `\x1b`), so input can neither forge lines nor send terminal codes.
 */
export function escapeControls(text: string, options: { keepLines?: boolean } = {}): string {
  return text.replace(options.keepLines ? CONTROLS_BUT_LINES : CONTROLS, escapeControl);
}

/** `text` cut to `max` characters, saying how much was left out. */
export function capLength(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * A value the user gave, as a message echoes it: control characters escaped, and cut to
 * SHOWN_VALUE_MAX characters (a megabyte of input must not make a megabyte of error).
 */
export function shown(value: string): string {
  return escapeControls(capLength(value, SHOWN_VALUE_MAX));
}

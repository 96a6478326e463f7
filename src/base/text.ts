/** Small text helpers shared by reports and messages. */

/** `1 migration`, `2 migrations`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

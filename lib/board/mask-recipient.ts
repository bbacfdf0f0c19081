/** Characters kept at the start: `+` and the country code (`+372`). */
const KEPT_HEAD = 4;
/** Digits kept at the end, enough for support staff to tell two numbers apart. */
const KEPT_TAIL = 2;

/**
 * A recipient as the board shows it by default: its first 4 characters, stars, and its last
 * 2 digits (`+3725555555` becomes `+372*****55`). Anything too short to keep both ends
 * without showing most of it is starred entirely; a value that is not a string is null.
 */
export function maskRecipient(to: unknown): string | null {
  if (typeof to !== 'string') return null;
  const chars = [...to];
  if (chars.length <= KEPT_HEAD + KEPT_TAIL) return '*'.repeat(chars.length);
  return (
    chars.slice(0, KEPT_HEAD).join('') +
    '*'.repeat(chars.length - KEPT_HEAD - KEPT_TAIL) +
    chars.slice(-KEPT_TAIL).join('')
  );
}

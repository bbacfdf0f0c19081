/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts colour, cursor and
 * OSC sequences; CR and LF start a new line that can pass for one of the CLI's own), DEL, C1
 * controls (0x9b is a one-byte CSI on some terminals), the Unicode line and paragraph
 * separators, and the bidirectional overrides that can show text in another order.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to print on a terminal: every character in `UNSAFE` shown as its `\uXXXX`
 * escape (ESC as `\u001b`), everything else unchanged. Text from reports, the app's
 * answers, headers and files goes through it before it reaches human output.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

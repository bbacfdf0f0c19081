import { MAX_PHONE, isPrefixQuery } from '../stores/store-queries.js';

/**
 * PostgreSQL text cannot hold NUL, and node-postgres would turn a lone surrogate into U+FFFD:
 * such an id is stored JSON-encoded behind U+0001, which no other stored id starts with
 * (an id starting with U+0001 is encoded too), so the mapping stays one-to-one.
 */
export function toDbText(value: string): string {
  return NEEDS_ENCODING.test(value) ? `\u0001${JSON.stringify(value)}` : value;
}

const NEEDS_ENCODING =
  // eslint-disable-next-line no-control-regex
  /\u0000|^\u0001|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The id `toDbText` stored as `value`. */
export function fromDbText(value: string): string {
  return value.startsWith('\u0001') ? (JSON.parse(value.slice(1)) as string) : value;
}

/**
 * The parameters of the search statement for `query`: `$1` the id as stored, `$2`…`$5` two
 * ranges of stored ids that start with `query` (as stored plain, and as stored encoded: an id
 * holding a NUL further on is encoded even when the query is not), `$6` the phone number.
 * Unused ranges are null, which matches nothing.
 */
export function searchValues(query: string): (string | null)[] {
  const prefix = isPrefixQuery(query);
  const plain = prefix && !NEEDS_ENCODING.test(query) ? prefixRange(query) : null;
  // JSON escapes one character at a time: the encoded id starts with the encoded query.
  const encoded = prefix ? prefixRange(`\u0001${JSON.stringify(query).slice(0, -1)}`) : null;
  return [
    toDbText(query),
    ...(plain ?? [null, null]),
    ...(encoded ?? [null, null]),
    query.length <= MAX_PHONE ? toDbText(query) : null,
  ];
}

/**
 * The text ids starting with `prefix` lie in: `[prefix, next)` in byte order (UTF-8 bytes
 * order as code points do), `next` being `prefix` with its last character incremented. Null
 * when there is no such string (every character U+10FFFF).
 */
function prefixRange(prefix: string): [string, string] | null {
  const chars = [...prefix];
  while (chars.length > 0) {
    const last = chars.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // No text holds a surrogate: the character after U+D7FF is U+E000.
      chars.push(String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1));
      return [prefix, chars.join('')];
    }
  }
  return null;
}

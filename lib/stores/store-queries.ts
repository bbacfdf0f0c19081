/**
 * Bounds shared by every store's read-only queries (`recent()`, `search()`), so that the three
 * stores answer the same question the same way.
 */

/** Most changes `recent()` answers: what each store keeps for the feed, and no more. */
export const MAX_RECENT = 500;

/** Most message ids `search()` answers. */
export const MAX_SEARCH = 500;

/** Shortest query `search()` treats as a prefix of an id (the CLI prints 8 characters). */
export const MIN_PREFIX = 8;

/** Longest `to` the search finds by phone number (E.164 has at most 16 characters). */
export const MAX_PHONE = 64;

/**
 * `limit` as a whole number between 0 and `max`: a fraction is rounded down, anything that is
 * not a positive number (NaN included) is 0, so a caller's bad value never reaches a query.
 */
export function boundedLimit(limit: number, max: number): number {
  if (!(limit >= 1)) return 0;
  return Math.min(Math.floor(limit), max);
}

/**
 * True when `query` is long enough to be searched as a prefix: `MIN_PREFIX` characters (code
 * points, as PostgreSQL counts them, so that an emoji is one character in every store).
 */
export function isPrefixQuery(query: string): boolean {
  if (query.length < MIN_PREFIX) return false;
  let count = 0;
  for (const _ of query) if (++count >= MIN_PREFIX) return true;
  return false;
}

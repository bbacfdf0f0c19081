/**
 * The Redis store's search index: per bucket and period, one lex sorted set (every score 0)
 * whose members name a message by one of its searchable values, so that an exact value or a
 * prefix is one `ZRANGEBYLEX` per set. Members:
 *
 * - `m<message id>`: the id itself, so a prefix of the id is a prefix of the member;
 * - `o<omnimessage id as a JSON string><message id>`: JSON delimits the omnimessage id, so an
 *   exact id is a prefix of the member, and the JSON string without its closing quote is a
 *   prefix exactly when the id has that prefix (JSON escapes one character at a time);
 * - `t<to as a JSON string><message id>`: the phone number (up to `MAX_PHONE` characters), exact only.
 *
 * A set expires a period and a TTL after its last write, which is at least as long as any of
 * its messages lives: the index forgets with the messages, and a search reads the few periods
 * that can still hold a live message.
 */
import { MAX_PHONE, isPrefixQuery } from '../stores/store-queries.js';

/** Greater than every byte of UTF-8: the end of a lex range of members with a given prefix. */
const AFTER_UTF8 = Buffer.from([0xff]);

/** Length of a period of the search index, in seconds: a quarter of the TTL (at least one second). */
export function periodSeconds(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds / 4));
}

/** The period of a time (ms). */
export function periodOf(at: number, ttlSeconds: number): number {
  return Math.floor(at / 1000 / periodSeconds(ttlSeconds));
}

/**
 * The periods a search reads at `now`, newest first: back to the one whose last write could
 * belong to a message still alive (TTL), and one more for clocks that disagree.
 */
export function periodsToRead(now: number, ttlSeconds: number): number[] {
  const current = periodOf(now, ttlSeconds);
  const back = Math.ceil(ttlSeconds / periodSeconds(ttlSeconds)) + 2;
  return Array.from({ length: back + 1 }, (_, i) => current - i);
}

/** The members that make a message findable: by id, by omnimessage id and by phone number. */
export function searchEntries(messageId: string, omnimessageId: string | null, to: unknown): string[] {
  return [
    `m${messageId}`,
    omnimessageId === null ? '' : `o${JSON.stringify(omnimessageId)}${messageId}`,
    typeof to === 'string' && to.length <= MAX_PHONE ? `t${JSON.stringify(to)}${messageId}` : '',
  ];
}

/** The lex ranges (`min`, `max` pairs for `ZRANGEBYLEX`) of the members `query` names. */
export function searchRanges(query: string): Buffer[] {
  const json = JSON.stringify(query);
  const ranges = [exact(`m${query}`), prefixed(`o${json}`), prefixed(`t${json}`)];
  if (isPrefixQuery(query)) ranges.push(prefixed(`m${query}`), prefixed(`o${json.slice(0, -1)}`));
  return ranges.flat();
}

/** The message id a member names. */
export function messageIdOf(member: string): string {
  if (member.startsWith('m')) return member.slice(1);
  // Past the JSON string that follows the kind: its first quote that no backslash escapes.
  for (let i = 2; i < member.length; i++) {
    if (member[i] === '\\') i++;
    else if (member[i] === '"') return member.slice(i + 1);
  }
  return '';
}

function exact(member: string): Buffer[] {
  const bound = Buffer.from(`[${member}`);
  return [bound, bound];
}

function prefixed(prefix: string): Buffer[] {
  return [Buffer.from(`[${prefix}`), Buffer.concat([Buffer.from(`(${prefix}`), AFTER_UTF8])];
}

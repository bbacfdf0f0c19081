import { DELIVERY_BIN_COUNT } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS, deliveryBucketsOf } from '../analytics/delivery-window.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/**
 * A block of ten minutes: its hash holds the sum of its minutes, so that the `1h` window reads
 * at most 15 hashes (its whole blocks, 5 or 6, and the minutes at either end) instead of 60.
 * Ten divides an hour: a block lies in one hour, and shares its hash tag.
 */
export const TEN_MINUTES_MS = 10 * MINUTE_MS;
/** How long a minute bucket (or a block of ten) is kept after it starts: the 1h window and an hour to spare. */
export const MINUTE_KEEP_MS = 2 * HOUR_MS;
/** How long an hour bucket is kept after its hour starts: the 24h window and two hours to spare. */
export const HOUR_KEEP_MS = 26 * HOUR_MS;

/** One bucket hash of the delivery analytics: its key, its expiry and the slot group it writes with. */
export interface DeliveryHash {
  readonly key: string;
  /** Unix time in seconds (`EXPIREAT`) at which the bucket is of no window any more. */
  readonly expireAt: number;
  /** The hour the bucket lies in: the minute and hour hashes of one hour share a hash tag. */
  readonly hour: number;
}

/**
 * The keys of the delivery analytics (`DlrDeliveryStatsStore`), beside those of `RedisDlrKeys`:
 *
 * - per message, in the message's bucket: `<prefix>{b}:delivery:<message id>`, a hash of
 *   `at` (when the message started, ms, as given) and `final` (set once a final step counted),
 *   expiring with the store's `ttlSeconds`, renewed by each tally that changes it;
 * - per hour: `<prefix>{delivery:<hour ms>}:v2:hour`, per block of ten minutes of that hour
 *   `<prefix>{delivery:<hour ms>}:v2:ten:<block ms>` (see `TEN_MINUTES_MS`), and per minute
 *   `<prefix>{delivery:<hour ms>}:v2:minute:<minute ms>`: hashes of one field per channel and
 *   country (`deliveryPairField`) whose value packs all its counters (`addDeliveryValue`),
 *   expiring `HOUR_KEEP_MS` and `MINUTE_KEEP_MS` (minutes and blocks) after their start (`EXPIREAT`, whoever
 *   writes them). `v2`: the packed layout; the hashes of one field per counter that earlier
 *   versions wrote (without `v2`) are never read, and expire.
 *
 * The minute and block hashes of an hour and the hour's hash share one hash tag, so that on Redis Cluster
 * one script adds a call's counts; the per-message hash is in the message's slot, where the
 * decision whether a step counts is taken atomically.
 */
export class RedisDeliveryKeys {
  /** The store's key prefix: what its layout key has before `buckets`. */
  private readonly prefix: string;

  constructor(private readonly keys: RedisDlrKeys) {
    this.prefix = keys.layout.slice(0, -'buckets'.length);
  }

  /** What is known of a message: its start, and whether a final step counted. */
  state(messageId: string): string {
    return `${this.keys.tag(this.keys.bucketOf(messageId))}delivery:${messageId}`;
  }

  /** The minute bucket that starts at `minute` (ms). */
  minute(minute: number): DeliveryHash {
    const hour = Math.floor(minute / HOUR_MS) * HOUR_MS;
    return {
      key: `${this.hourTag(hour)}v2:minute:${minute}`,
      expireAt: Math.ceil((minute + MINUTE_KEEP_MS) / 1000),
      hour,
    };
  }

  /** The block of ten minutes that starts at `start` (ms). */
  ten(start: number): DeliveryHash {
    const hour = Math.floor(start / HOUR_MS) * HOUR_MS;
    return {
      key: `${this.hourTag(hour)}v2:ten:${start}`,
      expireAt: Math.ceil((start + MINUTE_KEEP_MS) / 1000),
      hour,
    };
  }

  /** The hour bucket that starts at `hour` (ms). */
  hour(hour: number): DeliveryHash {
    return { key: `${this.hourTag(hour)}v2:hour`, expireAt: Math.ceil((hour + HOUR_KEEP_MS) / 1000), hour };
  }

  /** The minute, the block of ten and the hour hash a step received at `receivedAt` counts in. */
  bucketsOf(receivedAt: number): {
    readonly minute: DeliveryHash;
    readonly ten: DeliveryHash;
    readonly hour: DeliveryHash;
  } {
    const { minute, hour } = deliveryBucketsOf(receivedAt);
    const ten = Math.floor(minute / TEN_MINUTES_MS) * TEN_MINUTES_MS;
    return { minute: this.minute(minute), ten: this.ten(ten), hour: this.hour(hour) };
  }

  /**
   * The hashes that hold the buckets from `first` to `last` (their starts, ms), `bucketMs`
   * apart, each once: hours as they are; minutes by whole blocks of ten where the range holds
   * one, else one by one.
   */
  range(first: number, last: number, bucketMs: number): DeliveryHash[] {
    const hashes: DeliveryHash[] = [];
    for (let start = first; start <= last;) {
      if (bucketMs !== MINUTE_MS) {
        hashes.push(this.hour(start));
        start += bucketMs;
      } else if (start % TEN_MINUTES_MS === 0 && start + TEN_MINUTES_MS - MINUTE_MS <= last) {
        hashes.push(this.ten(start));
        start += TEN_MINUTES_MS;
      } else {
        hashes.push(this.minute(start));
        start += MINUTE_MS;
      }
    }
    return hashes;
  }

  private hourTag(hour: number): string {
    return `${this.prefix}{delivery:${hour}}:`;
  }
}

/** The numbers of a value's first line: started, delivered, failed, then the duration bins. */
export const DELIVERY_COUNTS = 3 + DELIVERY_BIN_COUNT;

/**
 * The field of a channel and country in a bucket hash: the JSON array `[channel, country]`
 * (`["sms","EE"]`), so that no channel or country can be mistaken for another. The tally
 * script is handed this text and writes it as it is.
 */
export function deliveryPairField(channel: string, country: string): string {
  return JSON.stringify([channel, country]);
}

/** Decodes a field `deliveryPairField` wrote; null for anything else. */
export function parseDeliveryPairField(field: string): { channel: string; country: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [channel, country] = parsed as unknown[];
  return typeof channel === 'string' && typeof country === 'string' ? { channel, country } : null;
}

/** Counts of one channel and country, summed over values (`addDeliveryValue`). */
export interface DeliverySum {
  /** `DELIVERY_COUNTS` numbers: started, delivered, failed, then the bins. */
  readonly counts: number[];
  /** Failures by the reason's JSON text, as the value holds it (decoded by `decodeDeliveryReasons`). */
  readonly reasons: Map<string, number>;
}

/** An empty `DeliverySum`. */
export function emptyDeliverySum(): DeliverySum {
  return { counts: new Array<number>(DELIVERY_COUNTS).fill(0), reasons: new Map() };
}

const ZERO = 48;
const COMMA = 44;
const NEWLINE = 10;
/** Where `addDeliveryValue` parses a value's counts before adding them (it is synchronous). */
const scratch = new Array<number>(DELIVERY_COUNTS).fill(0);

/**
 * Adds one packed value of a bucket hash to `sum`. A value is lines joined by `\n`: first the
 * `DELIVERY_COUNTS` numbers joined by commas (`3,2,1,0,…`), then one line per failure reason,
 * `<count>,<reason as JSON>` (`1,"expired"`). The reason is the JSON text the caller gave the
 * script (`JSON.stringify` escapes every control character, a newline included), so that any
 * text stays one line and the script never decodes it. A value whose first line is not that
 * many non-negative integers is ignored whole (false); a reason line without a count is skipped.
 */
export function addDeliveryValue(sum: DeliverySum, value: string): boolean {
  // By char codes, not split(): a window's read parses (pairs × buckets) values, and this is
  // most of its cost in the process.
  const counts = scratch;
  let k = 0;
  let n = 0;
  let digits = 0;
  let i = 0;
  for (; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : NEWLINE;
    if (c >= ZERO && c <= ZERO + 9) {
      n = n * 10 + c - ZERO;
      digits++;
    } else if (c === COMMA || c === NEWLINE) {
      // At most 15 digits: below 2^53, an exact integer.
      if (digits === 0 || digits > 15 || k === DELIVERY_COUNTS) return false;
      counts[k++] = n;
      n = digits = 0;
      if (c === NEWLINE) break;
    } else return false;
  }
  if (k !== DELIVERY_COUNTS) return false;
  for (let j = 0; j < DELIVERY_COUNTS; j++) sum.counts[j]! += counts[j]!;
  for (let start = i + 1; start < value.length;) {
    const end = value.indexOf('\n', start);
    const line = value.slice(start, end < 0 ? value.length : end);
    start = end < 0 ? value.length : end + 1;
    const comma = line.indexOf(',');
    const count = comma > 0 && /^\d{1,15}$/.test(line.slice(0, comma)) ? Number(line.slice(0, comma)) : -1;
    if (count < 0) continue;
    const reason = line.slice(comma + 1);
    sum.reasons.set(reason, (sum.reasons.get(reason) ?? 0) + count);
  }
  return true;
}

/**
 * The reasons of a `DeliverySum`, decoded: an object (own properties, so that a reason named
 * `__proto__` stays a reason); text that is not a JSON string is dropped.
 */
export function decodeDeliveryReasons(reasons: ReadonlyMap<string, number>): Record<string, number> {
  const decoded = new Map<string, number>();
  for (const [json, count] of reasons) {
    let reason: unknown;
    try {
      reason = JSON.parse(json);
    } catch {
      continue;
    }
    if (typeof reason === 'string') decoded.set(reason, (decoded.get(reason) ?? 0) + count);
  }
  return Object.fromEntries(decoded);
}

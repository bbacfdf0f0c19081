import { HOUR_MS, MINUTE_MS, deliveryBucketsOf } from '../analytics/delivery-window.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/** How long a minute bucket is kept after its minute starts: the 1h window and an hour to spare. */
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
 * - per hour: `<prefix>{delivery:<hour ms>}:hour`, and per minute of that hour
 *   `<prefix>{delivery:<hour ms>}:minute:<minute ms>`: hashes of counters (see
 *   `deliveryField`), expiring `HOUR_KEEP_MS` and `MINUTE_KEEP_MS` after their start
 *   (`EXPIREAT`, whoever writes them).
 *
 * The minute hashes of an hour and the hour's hash share one hash tag, so that on Redis Cluster
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
      key: `${this.hourTag(hour)}minute:${minute}`,
      expireAt: Math.ceil((minute + MINUTE_KEEP_MS) / 1000),
      hour,
    };
  }

  /** The hour bucket that starts at `hour` (ms). */
  hour(hour: number): DeliveryHash {
    return { key: `${this.hourTag(hour)}hour`, expireAt: Math.ceil((hour + HOUR_KEEP_MS) / 1000), hour };
  }

  /** The minute and the hour hash a step received at `receivedAt` counts in. */
  bucketsOf(receivedAt: number): { readonly minute: DeliveryHash; readonly hour: DeliveryHash } {
    const { minute, hour } = deliveryBucketsOf(receivedAt);
    return { minute: this.minute(minute), hour: this.hour(hour) };
  }

  /** The hashes of the buckets from `first` to `last` (their starts, ms), `bucketMs` apart. */
  range(first: number, last: number, bucketMs: number): DeliveryHash[] {
    const hashes: DeliveryHash[] = [];
    for (let start = first; start <= last; start += bucketMs) {
      hashes.push(bucketMs === MINUTE_MS ? this.minute(start) : this.hour(start));
    }
    return hashes;
  }

  private hourTag(hour: number): string {
    return `${this.prefix}{delivery:${hour}}:`;
  }
}

/** One counter of a bucket hash, decoded from its field. */
export interface DeliveryField {
  readonly channel: string;
  readonly country: string;
  /** `s` started, `d` delivered, `f` failed, `b` a duration bin, `r` a failure reason. */
  readonly kind: 's' | 'd' | 'f' | 'b' | 'r';
  /** The bin (`b`) or the reason (`r`). */
  readonly detail?: number | string;
}

/**
 * The field of a counter in a bucket hash: the JSON array `[channel, country, kind]`, with the
 * bin or reason after the kind (`["sms","EE","b",3]`, `["sms","EE","r","expired"]`). JSON, so
 * that no channel, country or reason can be mistaken for another. The Lua of the tally script
 * writes the same text: `deliveryRowPrefix(…)` followed by the kind and `]`.
 */
export function deliveryField(field: DeliveryField): string {
  const { channel, country, kind, detail } = field;
  return JSON.stringify(detail === undefined ? [channel, country, kind] : [channel, country, kind, detail]);
}

/** The start of every field of a row, `["<channel>","<country>",`, which the script completes. */
export function deliveryRowPrefix(channel: string, country: string): string {
  return `${JSON.stringify([channel, country]).slice(0, -1)},`;
}

/** Decodes a field `deliveryField` (or the script) wrote; null for anything else. */
export function parseDeliveryField(field: string): DeliveryField | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length < 3) return null;
  const [channel, country, kind, detail] = parsed as unknown[];
  if (typeof channel !== 'string' || typeof country !== 'string') return null;
  if (kind === 's' || kind === 'd' || kind === 'f') return { channel, country, kind };
  if (kind === 'b' && typeof detail === 'number') return { channel, country, kind, detail };
  if (kind === 'r' && typeof detail === 'string') return { channel, country, kind, detail };
  return null;
}

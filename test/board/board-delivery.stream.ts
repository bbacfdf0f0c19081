import type { DeliveryGroupStats } from '../../lib/index.js';
import { DELIVERY_SECONDS_BOUNDS } from '../../lib/analytics/delivery-bins.js';
import { dlrPayload } from '../../lib/testing/index.js';

/**
 * A known stream of delivery reports for the Delivery panel's tests, and the numbers it must
 * give, computed here from the stream alone: the tests compare the board's answer with these,
 * not with the code under test.
 */

/** One report of a message: its status and `err`, and its Messente `timestamp` in seconds after the stream's start. */
export interface StreamReport {
  readonly status: string;
  readonly err?: number;
  readonly atSeconds: number;
}

/** One message: its channel, its recipient with the country it is in, and its reports in order. */
export interface StreamMessage {
  readonly channel: string;
  readonly to: string;
  readonly country: string;
  readonly reports: readonly StreamReport[];
}

const EE = '+3725555555';
const EE2 = '+3726123456';
const LT = '+37061234567';
const LV = '+37120000000';
const GB = '+442079460958';
const US = '+12125550123';
const DE = '+4915112345678';
/** A UK number in a range no operator holds (Ofcom's drama range): no country. */
const NONE = '+447700900123';

const sent = (status = 'ACCEPTD'): StreamReport => ({ status, atSeconds: 0 });
const at = (status: string, atSeconds: number, err?: number): StreamReport => ({ status, atSeconds, err });

/** The stream: several channels and countries, deliveries of known durations, failures, pending. */
export const STREAM: readonly StreamMessage[] = [
  { channel: 'sms', to: EE, country: 'EE', reports: [sent(), at('DELIVRD', 3)] },
  // Exactly on a bin's bound: that bin (durations ≤ the bound).
  { channel: 'sms', to: EE2, country: 'EE', reports: [sent(), at('DELIVRD', 5)] },
  { channel: 'sms', to: EE, country: 'EE', reports: [sent(), at('DELIVRD', 1)] },
  { channel: 'sms', to: LT, country: 'LT', reports: [sent(), at('DELIVRD', 12.5)] },
  { channel: 'sms', to: LT, country: 'LT', reports: [sent(), at('FAILED', 20, 1)] },
  { channel: 'sms', to: LT, country: 'LT', reports: [sent(), at('ACK', 1), at('FAILED', 10, 1)] },
  { channel: 'sms', to: GB, country: 'GB', reports: [sent(), at('DELIVRD', 45)] },
  { channel: 'sms', to: GB, country: 'GB', reports: [sent()] },
  // Heard of first at its final report: it counts, but its start (so its duration) is unknown.
  { channel: 'sms', to: EE, country: 'EE', reports: [at('DELIVRD', 7)] },
  { channel: 'sms', to: US, country: 'US', reports: [at('REJECTD', 2, 0)] },
  { channel: 'sms', to: DE, country: 'DE', reports: [sent(), at('FAILED', 3, 999)] },
  { channel: 'viber', to: EE, country: 'EE', reports: [sent(), at('SEEN', 8)] },
  // SEEN after DELIVRD ends nothing more: the delivery took 2 s.
  { channel: 'viber', to: EE2, country: 'EE', reports: [sent(), at('DELIVRD', 2), at('SEEN', 30)] },
  { channel: 'viber', to: LV, country: 'LV', reports: [sent(), at('UNDELIV', 40, 3)] },
  { channel: 'viber', to: LT, country: 'LT', reports: [sent(), at('ACK', 1)] },
  { channel: 'viber', to: LV, country: 'LV', reports: [sent()] },
  { channel: 'whatsapp', to: GB, country: 'GB', reports: [sent(), at('DELIVRD', 0.8)] },
  { channel: 'whatsapp', to: US, country: 'US', reports: [sent(), at('DELIVRD', 250)] },
  { channel: 'whatsapp', to: NONE, country: '_OTHER', reports: [sent(), at('EXPIRED', 600, 2)] },
  { channel: 'whatsapp', to: DE, country: 'DE', reports: [sent(), at('DELIVRD', 1_900)] },
  // Channels are counted in lower case.
  { channel: 'Telegram', to: EE, country: 'EE', reports: [sent(), at('DELIVRD', 95)] },
];

/** Messente's timestamp form: UTC, no offset, microseconds. */
function messenteTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000`;
}

/**
 * The bodies to post, in order, each message's reports in order, the stream starting at
 * `startMs` (Messente's timestamps; the reports are received now, whatever they say).
 */
export function streamBodies(startMs: number, stream = STREAM): Record<string, unknown>[] {
  return stream.flatMap((message) => {
    const first = dlrPayload({ channel: message.channel, to: message.to });
    return message.reports.map((report) =>
      dlrPayload({
        message_id: first['message_id'],
        omnimessage_id: first['omnimessage_id'],
        channel: message.channel,
        to: message.to,
        status: report.status,
        err: report.err ?? 0,
        timestamp: messenteTimestamp(startMs + report.atSeconds * 1000),
      }),
    );
  });
}

/** One channel's or country's numbers, as `GET api/delivery` answers them. */
export type ExpectedGroup = DeliveryGroupStats;

const DELIVERED = new Set(['DELIVRD', 'SEEN']);
const FAILED = new Set(['UNDELIV', 'FAILED', 'REJECTD', 'EXPIRED', 'NACK', 'DELETED']);
/** Messente's `err` codes (PROTOCOL.md) by the reason the analytics name them with. */
const ERR_REASONS: Readonly<Record<number, string>> = {
  1: 'delivery_failure',
  2: 'expired',
  3: 'invalid_number',
  999: 'temporary_error',
};

/** What one message ends as: delivered (and in how long, when its start is known), failed, or pending. */
interface MessageEnd {
  readonly message: StreamMessage;
  readonly end: 'delivered' | 'failed' | 'pending';
  readonly seconds: number | null;
  readonly reason: string | null;
}

function endOf(message: StreamMessage): MessageEnd {
  const [first] = message.reports;
  const final = message.reports.find((report) => DELIVERED.has(report.status) || FAILED.has(report.status));
  if (!final) return { message, end: 'pending', seconds: null, reason: null };
  if (FAILED.has(final.status)) {
    const reason = final.err ? ERR_REASONS[final.err]! : final.status.toLowerCase();
    return { message, end: 'failed', seconds: null, reason };
  }
  const timed = final !== first;
  return {
    message,
    end: 'delivered',
    seconds: timed ? final.atSeconds - first!.atSeconds : null,
    reason: null,
  };
}

/** The upper bound of the histogram bin holding the `q` quantile of the exact durations. */
export function binQuantile(durations: readonly number[], q: number): number | null {
  if (durations.length === 0) return null;
  const sorted = [...durations].sort((a, b) => a - b);
  const value = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
  return DELIVERY_SECONDS_BOUNDS.find((bound) => value <= bound) ?? DELIVERY_SECONDS_BOUNDS.at(-1)!;
}

function groupOf(key: string, ends: readonly MessageEnd[]): ExpectedGroup {
  const delivered = ends.filter((end) => end.end === 'delivered').length;
  const failed = ends.filter((end) => end.end === 'failed').length;
  const durations = ends.flatMap((end) => (end.seconds === null ? [] : [end.seconds]));
  return {
    key,
    delivered,
    failed,
    pending: ends.length - delivered - failed,
    rate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    p50Seconds: binQuantile(durations, 0.5),
    p90Seconds: binQuantile(durations, 0.9),
  };
}

function groupsBy(ends: readonly MessageEnd[], keyOf: (message: StreamMessage) => string): ExpectedGroup[] {
  const keys = [...new Set(ends.map((end) => keyOf(end.message)))].sort();
  return keys.map((key) =>
    groupOf(
      key,
      ends.filter((end) => keyOf(end.message) === key),
    ),
  );
}

/** The numbers the stream gives: in all, by channel and by country (sorted by key), failures by reason. */
export function expectedDelivery(stream = STREAM) {
  const ends = stream.map(endOf);
  const reasons = new Map<string, number>();
  for (const end of ends) if (end.reason) reasons.set(end.reason, (reasons.get(end.reason) ?? 0) + 1);
  return {
    total: groupOf('all', ends),
    byChannel: groupsBy(ends, (message) => message.channel.toLowerCase()),
    byCountry: groupsBy(ends, (message) => message.country),
    failuresByReason: [...reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
  };
}

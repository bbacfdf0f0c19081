import { HOUR_MS, MINUTE_MS } from '../../lib/analytics/delivery-window.js';
import type { DeliveryBucketRow, DeliveryTally } from '../../lib/interfaces/delivery-stats.interface.js';
import { InMemoryDeliveryStats, MAX_ROWS_PER_BUCKET } from '../../lib/stores/in-memory-delivery-stats.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';

// The bounds of the in-memory analytics; what every store counts is the contract's
// (test/stores/dlr-store.contract.spec.ts, `deliveryStats`).

const NOW = Date.UTC(2026, 11, 4, 12, 30);

function step(
  messageId: string,
  kind: DeliveryTally['step'],
  at: number,
  extra: Partial<DeliveryTally> = {},
) {
  return { messageId, channel: 'sms', country: 'EE', step: kind, reason: null, at, receivedAt: at, ...extra };
}

function sum(rows: readonly DeliveryBucketRow[], field: 'started' | 'delivered' | 'failed'): number {
  return rows.reduce((total, row) => total + row[field], 0);
}

describe('InMemoryDeliveryStats', () => {
  it('forgets the least recently counted message past maxMessages: it starts again, without a duration', () => {
    const stats = new InMemoryDeliveryStats(2);
    stats.tally([step('m1', 'started', NOW), step('m2', 'started', NOW)], NOW);
    stats.tally([step('m3', 'started', NOW)], NOW);
    // m1 was forgotten; m2 and m3 are still known.
    expect(stats.tally([step('m2', 'delivered', NOW + 4000)], NOW)).toEqual([4]);
    expect(stats.tally([step('m1', 'delivered', NOW + 4000)], NOW)).toEqual([null]);
    const rows = stats.buckets('1h', NOW);
    expect([sum(rows, 'started'), sum(rows, 'delivered')]).toEqual([4, 2]);
  });

  it('drops minute buckets after an hour and hour buckets after a day, as new ones are made', () => {
    const stats = new InMemoryDeliveryStats(100);
    stats.tally([step('m1', 'started', NOW)], NOW);
    expect(sum(stats.buckets('1h', NOW), 'started')).toBe(1);
    // A minute bucket made 61 minutes on drops the first minute; its hour is still kept.
    stats.tally([step('m2', 'started', NOW + 61 * MINUTE_MS)], NOW + 61 * MINUTE_MS);
    expect(stats.buckets('1h', NOW)).toEqual([]);
    expect(sum(stats.buckets('24h', NOW), 'started')).toBe(1);
    stats.tally([step('m3', 'started', NOW + 25 * HOUR_MS)], NOW + 25 * HOUR_MS);
    expect(stats.buckets('24h', NOW)).toEqual([]);
    expect(sum(stats.buckets('24h', NOW + 25 * HOUR_MS), 'started')).toBe(1);
  });

  it('does not count a step whose bucket is already past keeping', () => {
    const stats = new InMemoryDeliveryStats(100);
    const answers = stats.tally([step('m1', 'started', NOW - 2 * HOUR_MS)], NOW);
    expect(answers).toEqual([null]);
    expect(stats.buckets('1h', NOW - 2 * HOUR_MS)).toEqual([]);
    expect(sum(stats.buckets('24h', NOW), 'started')).toBe(1);
    stats.tally([step('m2', 'started', NOW - 26 * HOUR_MS)], NOW);
    expect(stats.buckets('24h', NOW - 26 * HOUR_MS)).toEqual([]);
  });

  it(`keeps at most ${MAX_ROWS_PER_BUCKET} rows in a bucket, the rest counted as _OTHER`, () => {
    const stats = new InMemoryDeliveryStats(10_000);
    const channels = Array.from({ length: MAX_ROWS_PER_BUCKET + 50 }, (_, i) => `ch${i}`);
    stats.tally(
      channels.map((channel, i) => step(`m${i}`, 'started', NOW, { channel })),
      NOW,
    );
    // A known pair still counts in its own row once the bucket is full.
    stats.tally([step('again', 'started', NOW, { channel: 'ch0' })], NOW);
    const rows = stats.buckets('1h', NOW);
    expect(rows).toHaveLength(MAX_ROWS_PER_BUCKET + 1);
    expect(rows.find((row) => row.channel === '_OTHER')).toMatchObject({ country: '_OTHER', started: 50 });
    expect(rows.find((row) => row.channel === 'ch0')?.started).toBe(2);
    expect(sum(rows, 'started')).toBe(channels.length + 1);
  });

  it('answers copies of its rows: changing one changes nothing kept', () => {
    const stats = new InMemoryDeliveryStats(10);
    stats.tally([step('m1', 'failed', NOW, { reason: 'expired' })], NOW);
    const [row] = stats.buckets('1h', NOW) as unknown as {
      bins: number[];
      reasons: Record<string, number>;
    }[];
    row!.bins[0] = 99;
    row!.reasons['expired'] = 99;
    expect(stats.buckets('1h', NOW)[0]).toMatchObject({ failed: 1, reasons: { expired: 1 } });
    expect(stats.buckets('1h', NOW)[0]?.bins[0]).toBe(0);
  });
});

describe('InMemoryDlrStore delivery analytics', () => {
  it('counts through the store, its messages bounded by maxMessages', async () => {
    const store = new InMemoryDlrStore({ maxMessages: 1 });
    const now = Date.now();
    expect(
      await store.tallyDelivery([step('m1', 'started', now), step('m1', 'delivered', now + 2000)]),
    ).toEqual([null, 2]);
    // m2 evicts m1: its final step again counts, as a new message's.
    await store.tallyDelivery([step('m2', 'started', now), step('m1', 'failed', now)]);
    const rows = await store.deliveryBuckets('1h', now);
    expect([sum(rows, 'started'), sum(rows, 'delivered'), sum(rows, 'failed')]).toEqual([3, 1, 1]);
  });
});

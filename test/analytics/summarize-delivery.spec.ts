import fc from 'fast-check';
import { DELIVERY_BIN_COUNT, deliveryBinOf } from '../../lib/analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../../lib/analytics/delivery-window.js';
import { summarizeDelivery } from '../../lib/analytics/summarize-delivery.js';
import type { DeliveryBucketRow } from '../../lib/interfaces/delivery-stats.interface.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const NOW = Date.UTC(2026, 11, 4, 12, 30, 15);

function binsOf(...seconds: number[]): number[] {
  const bins = new Array<number>(DELIVERY_BIN_COUNT).fill(0);
  for (const value of seconds) bins[deliveryBinOf(value)]!++;
  return bins;
}

function row(channel: string, country: string, counts: Partial<DeliveryBucketRow> = {}): DeliveryBucketRow {
  return { channel, country, started: 0, delivered: 0, failed: 0, bins: binsOf(), reasons: {}, ...counts };
}

/** Rows summed per channel and country, as a store that answers them pre-summed does. */
function presummed(rows: readonly DeliveryBucketRow[]): DeliveryBucketRow[] {
  const sums = new Map<string, DeliveryBucketRow>();
  for (const one of rows) {
    const key = JSON.stringify([one.channel, one.country]);
    const sum = sums.get(key) ?? row(one.channel, one.country);
    const reasons = new Map(Object.entries(sum.reasons));
    for (const [reason, count] of Object.entries(one.reasons))
      reasons.set(reason, (reasons.get(reason) ?? 0) + count);
    sums.set(key, {
      ...sum,
      started: sum.started + one.started,
      delivered: sum.delivered + one.delivered,
      failed: sum.failed + one.failed,
      bins: sum.bins.map((count, bin) => count + (one.bins[bin] ?? 0)),
      reasons: Object.fromEntries(reasons),
    });
  }
  return [...sums.values()];
}

describe('summarizeDelivery', () => {
  it('answers the window and its bounds, with nothing counted', () => {
    expect(summarizeDelivery('1h', NOW, [])).toEqual({
      window: '1h',
      from: Date.UTC(2026, 11, 4, 11, 31),
      to: Date.UTC(2026, 11, 4, 12, 31),
      total: {
        key: 'all',
        delivered: 0,
        failed: 0,
        pending: 0,
        rate: null,
        p50Seconds: null,
        p90Seconds: null,
      },
      byChannel: [],
      byCountry: [],
      failuresByReason: [],
    });
    const day = summarizeDelivery('24h', NOW, []);
    expect([day.from, day.to]).toEqual([Date.UTC(2026, 11, 4, 13) - 24 * HOUR_MS, Date.UTC(2026, 11, 4, 13)]);
    expect(day.to - day.from).toBe(24 * HOUR_MS);
    expect(summarizeDelivery('1h', NOW, []).to - summarizeDelivery('1h', NOW, []).from).toBe(60 * MINUTE_MS);
  });

  it('has no rate while nothing is final, and pending for what started', () => {
    const stats = summarizeDelivery('1h', NOW, [row('sms', 'EE', { started: 4 })]);
    expect(stats.total).toEqual({
      key: 'all',
      delivered: 0,
      failed: 0,
      pending: 4,
      rate: null,
      p50Seconds: null,
      p90Seconds: null,
    });
  });

  it('never counts pending below 0: messages started before the window and ended in it', () => {
    const stats = summarizeDelivery('1h', NOW, [
      row('sms', 'EE', { delivered: 3, failed: 1, bins: binsOf(1, 2, 3) }),
      row('viber', 'EE', { started: 5, delivered: 2, failed: 1, bins: binsOf(20, 40) }),
    ]);
    expect(stats.total).toMatchObject({ delivered: 5, failed: 2, pending: 0, rate: 5 / 7 });
    expect(stats.byChannel).toEqual([
      { key: 'viber', delivered: 2, failed: 1, pending: 2, rate: 2 / 3, p50Seconds: 30, p90Seconds: 60 },
      { key: 'sms', delivered: 3, failed: 1, pending: 0, rate: 0.75, p50Seconds: 2, p90Seconds: 5 },
    ]);
  });

  it('groups by channel and by country, most messages first, then by key; reasons most first', () => {
    const stats = summarizeDelivery('24h', NOW, [
      row('sms', 'GB', { started: 1, delivered: 1, bins: binsOf(10) }),
      row('viber', 'EE', { started: 2, failed: 2, reasons: { expired: 1, no_route: 1 } }),
      row('sms', 'EE', { started: 1, failed: 1, reasons: { no_route: 1 } }),
      row('sms', 'EE', { started: 1, delivered: 1, bins: binsOf(400) }),
      row('whatsapp', 'LV', { started: 2 }),
      row('rcs', '_OTHER', { started: 2, reasons: { expired: 0 } }),
    ]);
    expect(stats.byChannel.map((group) => [group.key, group.delivered, group.failed, group.pending])).toEqual(
      [
        ['sms', 2, 1, 0],
        ['rcs', 0, 0, 2],
        ['viber', 0, 2, 0],
        ['whatsapp', 0, 0, 2],
      ],
    );
    expect(
      stats.byCountry.map((group) => [group.key, group.delivered + group.failed + group.pending]),
    ).toEqual([
      ['EE', 4],
      ['_OTHER', 2],
      ['LV', 2],
      ['GB', 1],
    ]);
    expect(stats.byChannel[0]).toMatchObject({ p50Seconds: 10, p90Seconds: 600 });
    expect(stats.byCountry.find((group) => group.key === 'GB')).toMatchObject({ p50Seconds: 10, rate: 1 });
    // Zero counts are left out; ties go by reason.
    expect(stats.failuresByReason).toEqual([
      { reason: 'no_route', count: 2 },
      { reason: 'expired', count: 1 },
    ]);
  });

  it('reads bins past the histogram as nothing, and a short bins array as zeros past its end', () => {
    const stats = summarizeDelivery('1h', NOW, [
      row('sms', 'EE', { delivered: 2, bins: [1, 0, 1] }),
      row('sms', 'EE', { delivered: 1, bins: [...binsOf(), 7] }),
    ]);
    expect(stats.total).toMatchObject({ p50Seconds: 1, p90Seconds: 5 });
  });

  it(
    `answers the same from one row per bucket as from rows summed per channel and country (seed ${FUZZ_SEED})`,
    replayable(() => {
      const counts = fc.nat({ max: 20 });
      const rowArb = fc
        .record({
          channel: fc.constantFrom('sms', 'viber', 'whatsapp', '_OTHER'),
          country: fc.constantFrom('EE', 'LV', 'GB', '_OTHER'),
          started: counts,
          delivered: counts,
          failed: counts,
          durations: fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 5 }),
          reasons: fc.dictionary(fc.constantFrom('expired', 'no_route', 'unknown', '__proto__'), counts),
        })
        .map(({ durations, ...rest }) => ({ ...rest, bins: binsOf(...durations) }));
      fc.assert(
        fc.property(
          fc.array(rowArb, { maxLength: 30 }),
          fc.constantFrom('1h' as const, '24h' as const),
          (rows, window) => {
            const stats = summarizeDelivery(window, NOW, rows);
            expect(summarizeDelivery(window, NOW, presummed(rows))).toEqual(stats);
            const sum = (field: 'delivered' | 'failed') => rows.reduce((total, one) => total + one[field], 0);
            expect(stats.total).toMatchObject({ delivered: sum('delivered'), failed: sum('failed') });
            for (const group of [stats.total, ...stats.byChannel, ...stats.byCountry]) {
              expect(group.pending).toBeGreaterThanOrEqual(0);
              const final = group.delivered + group.failed;
              expect(group.rate).toBe(final === 0 ? null : group.delivered / final);
            }
            expect(stats.byChannel.reduce((total, group) => total + group.delivered, 0)).toBe(
              sum('delivered'),
            );
            expect(stats.byCountry.reduce((total, group) => total + group.failed, 0)).toBe(sum('failed'));
          },
        ),
        { seed: FUZZ_SEED, numRuns: 300 },
      );
    }),
  );
});

import fc from 'fast-check';
import {
  HOUR_MS,
  MINUTE_MS,
  deliveryBucketsOf,
  deliveryWindowRange,
  isDeliveryWindow,
} from '../../lib/analytics/delivery-window.js';
import { DELIVERY_WINDOWS } from '../../lib/interfaces/delivery-stats.interface.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const NOON = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('the windows of the delivery analytics', () => {
  it('1h: the current minute and the 59 before it', () => {
    expect(deliveryWindowRange('1h', NOON + 30_500)).toEqual({
      bucketMs: MINUTE_MS,
      first: NOON - 59 * MINUTE_MS,
      last: NOON,
    });
    // On a minute's first ms, that minute is the last bucket.
    expect(deliveryWindowRange('1h', NOON)).toMatchObject({ first: NOON - 59 * MINUTE_MS, last: NOON });
    expect(deliveryWindowRange('1h', NOON - 1)).toMatchObject({ last: NOON - MINUTE_MS });
  });

  it('24h: the current hour and the 23 before it', () => {
    expect(deliveryWindowRange('24h', NOON + 59 * MINUTE_MS)).toEqual({
      bucketMs: HOUR_MS,
      first: NOON - 23 * HOUR_MS,
      last: NOON,
    });
    expect(deliveryWindowRange('24h', NOON - 1)).toMatchObject({
      first: NOON - 24 * HOUR_MS,
      last: NOON - HOUR_MS,
    });
  });

  it(
    `holds now in its last bucket and covers 60 minutes or 24 hours of whole buckets (seed ${FUZZ_SEED})`,
    replayable(() => {
      fc.assert(
        fc.property(
          fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
          fc.constantFrom(...DELIVERY_WINDOWS),
          (now, window) => {
            const { bucketMs, first, last } = deliveryWindowRange(window, now);
            expect(bucketMs).toBe(window === '1h' ? MINUTE_MS : HOUR_MS);
            expect(first % bucketMs).toBe(0);
            expect(last <= now && now < last + bucketMs).toBe(true);
            expect((last - first) / bucketMs + 1).toBe(window === '1h' ? 60 : 24);
            // The bucket a moment counts in is in the window of that moment.
            const { minute, hour } = deliveryBucketsOf(now);
            expect(window === '1h' ? minute : hour).toBe(last);
          },
        ),
        { seed: FUZZ_SEED, numRuns: 300 },
      );
    }),
  );

  it('counts a moment in the minute and the hour that hold it', () => {
    expect(deliveryBucketsOf(NOON + 61_000)).toEqual({ minute: NOON + MINUTE_MS, hour: NOON });
    expect(deliveryBucketsOf(NOON - 1)).toEqual({ minute: NOON - MINUTE_MS, hour: NOON - HOUR_MS });
  });

  it('knows its windows, and nothing else', () => {
    expect(DELIVERY_WINDOWS).toEqual(['1h', '24h']);
    expect(DELIVERY_WINDOWS.every(isDeliveryWindow)).toBe(true);
    for (const value of ['1H', '2h', '24', '', ' 1h', 1, null, undefined, ['1h'], {}]) {
      expect(isDeliveryWindow(value)).toBe(false);
    }
  });
});

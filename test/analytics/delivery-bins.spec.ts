import fc from 'fast-check';
import {
  DELIVERY_BIN_COUNT,
  DELIVERY_SECONDS_BOUNDS,
  deliveryBinOf,
  quantileOfBins,
} from '../../lib/analytics/delivery-bins.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

/** A histogram of `durations`, as every store fills it. */
function binsOf(durations: readonly number[]): number[] {
  const bins = new Array<number>(DELIVERY_BIN_COUNT).fill(0);
  for (const seconds of durations) bins[deliveryBinOf(seconds)]!++;
  return bins;
}

/** The smallest bound at or above `seconds`, the last bound past it: a value rounded up to its bin. */
function roundedUp(seconds: number): number {
  return DELIVERY_SECONDS_BOUNDS.find((bound) => seconds <= bound) ?? DELIVERY_SECONDS_BOUNDS.at(-1)!;
}

// Durations as they come: on the bounds, between them, negative (clocks apart), past a day.
const duration = fc.oneof(
  fc.constantFrom(...DELIVERY_SECONDS_BOUNDS),
  fc.double({ min: -60, max: 200_000, noNaN: true }),
  fc.integer({ min: 0, max: 100 }),
);
const quantile = fc.oneof(
  fc.constantFrom(0.5, 0.9, 1),
  fc.double({ min: 0, max: 1, minExcluded: true, noNaN: true }),
);

describe('the histogram of time to deliver', () => {
  it('has a bin per bound and one past the last, bounds increasing', () => {
    expect(DELIVERY_BIN_COUNT).toBe(DELIVERY_SECONDS_BOUNDS.length + 1);
    expect([...DELIVERY_SECONDS_BOUNDS].sort((a, b) => a - b)).toEqual(DELIVERY_SECONDS_BOUNDS);
    expect(Object.isFrozen(DELIVERY_SECONDS_BOUNDS)).toBe(true);
  });

  it('puts a duration in the bin of the first bound at or above it', () => {
    expect(deliveryBinOf(0)).toBe(0);
    expect(deliveryBinOf(-5)).toBe(0);
    expect(deliveryBinOf(1)).toBe(0);
    expect(deliveryBinOf(1.001)).toBe(1);
    expect(deliveryBinOf(2)).toBe(1);
    expect(deliveryBinOf(60)).toBe(DELIVERY_SECONDS_BOUNDS.indexOf(60));
    expect(deliveryBinOf(61)).toBe(DELIVERY_SECONDS_BOUNDS.indexOf(120));
    expect(deliveryBinOf(86_400)).toBe(DELIVERY_SECONDS_BOUNDS.length - 1);
    expect(deliveryBinOf(86_400.5)).toBe(DELIVERY_SECONDS_BOUNDS.length);
  });

  it('answers null for an empty histogram', () => {
    expect(quantileOfBins([], 0.5)).toBeNull();
    expect(quantileOfBins(binsOf([]), 0.9)).toBeNull();
  });

  it('answers the bound of the bin that holds the ceil(q × n)-th smallest duration', () => {
    const bins = binsOf([0.5, 3, 3, 4, 40, 700]);
    expect(quantileOfBins(bins, 0.01)).toBe(1);
    expect(quantileOfBins(bins, 0.5)).toBe(5);
    expect(quantileOfBins(bins, 0.67)).toBe(60);
    expect(quantileOfBins(bins, 0.9)).toBe(900);
    expect(quantileOfBins(bins, 1)).toBe(900);
    // Past the last bound: the last bound, the most the histogram can say.
    expect(quantileOfBins(binsOf([100_000]), 0.5)).toBe(86_400);
    // A shorter array counts as zeros in the bins it lacks.
    expect(quantileOfBins([0, 0, 2], 0.5)).toBe(5);
  });

  it(
    `is the exact sorted quantile rounded up to its bin's bound, for any durations (seed ${FUZZ_SEED})`,
    replayable(() => {
      fc.assert(
        fc.property(fc.array(duration, { minLength: 1, maxLength: 200 }), quantile, (durations, q) => {
          const sorted = [...durations].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
          expect(quantileOfBins(binsOf(durations), q)).toBe(roundedUp(exact));
        }),
        { seed: FUZZ_SEED, numRuns: 500 },
      );
    }),
  );

  it(
    `never decreases as q grows (seed ${FUZZ_SEED})`,
    replayable(() => {
      fc.assert(
        fc.property(
          fc.array(duration, { minLength: 1, maxLength: 50 }),
          quantile,
          quantile,
          (durations, a, b) => {
            const bins = binsOf(durations);
            const [low, high] = a <= b ? [a, b] : [b, a];
            expect(quantileOfBins(bins, low)!).toBeLessThanOrEqual(quantileOfBins(bins, high)!);
          },
        ),
        { seed: FUZZ_SEED, numRuns: 300 },
      );
    }),
  );
});

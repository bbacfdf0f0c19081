import fc from 'fast-check';
import { RefusalWindow } from '../../lib/alarms/refusal-window.js';
import { REFUSAL_REASONS, type RefusalReason } from '../../lib/index.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('RefusalWindow', () => {
  it('counts the last seconds of a span, the current one included', () => {
    const window = new RefusalWindow(300_000, 10_000);
    window.requestAccepted(T0);
    window.requestRefused('signature_invalid', T0 + 500);
    window.requestRefused('ip_not_allowed', T0 + 9_999);
    expect(window.primary(T0 + 9_999)).toEqual({ requests: 3, refused: 2 });
    // At T0 + 10 s the first second (T0's) has left a 10-second window.
    expect(window.primary(T0 + 10_000)).toEqual({ requests: 1, refused: 1 });
    expect(window.counts(10_000, T0 + 10_000)).toEqual({ requests: 1, refused: 1 });
    // The 5-minute span still holds all three.
    expect(window.counts(300_000, T0 + 10_000)).toEqual({ requests: 3, refused: 2 });
    expect(window.counts(300_000, T0 + 300_000)).toEqual({ requests: 1, refused: 1 });
    expect(window.counts(300_000, T0 + 310_000)).toEqual({ requests: 0, refused: 0 });
    expect(window.primary(T0 + 3_600_000)).toEqual({ requests: 0, refused: 0 });
  });

  it('names the most frequent reason, ties in alphabetical order, null without refusals', () => {
    const window = new RefusalWindow(300_000, 300_000);
    expect(window.topReason(300_000, T0)).toBeNull();
    window.requestAccepted(T0);
    expect(window.topReason(300_000, T0)).toBeNull();
    window.requestRefused('signature_missing', T0);
    window.requestRefused('ip_not_allowed', T0 + 1_000);
    expect(window.topReason(300_000, T0 + 1_000)).toBe('ip_not_allowed');
    window.requestRefused('signature_missing', T0 + 2_000);
    expect(window.topReason(300_000, T0 + 2_000)).toBe('signature_missing');
    // Once T0's second is out of a 2-second span, the tie is back, and alphabetical.
    expect(window.topReason(2_000, T0 + 2_500)).toBe('ip_not_allowed');
  });

  it('a clock that steps back counts into the latest second seen', () => {
    const window = new RefusalWindow(300_000, 5_000);
    window.requestAccepted(T0 + 4_000);
    window.requestRefused('invalid_body', T0);
    expect(window.primary(T0 + 4_000)).toEqual({ requests: 2, refused: 1 });
    expect(window.primary(T0 + 8_999)).toEqual({ requests: 2, refused: 1 });
    expect(window.primary(T0 + 9_000)).toEqual({ requests: 0, refused: 0 });
  });

  it(
    `keeps the alarm window's running totals equal to a sum over the ring (seed ${FUZZ_SEED})`,
    replayable(() => {
      type Step = { gapMs: number; refused: RefusalReason | null };
      const step = fc.record({
        gapMs: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 0, max: 400_000 })),
        refused: fc.option(fc.constantFrom(...REFUSAL_REASONS)),
      });
      fc.assert(
        fc.property(
          fc.integer({ min: 1_000, max: 20_000 }),
          fc.array(step, { maxLength: 200 }),
          (span, steps) => {
            const window = new RefusalWindow(300_000, span);
            const seen: { at: number; refused: boolean }[] = [];
            let now = T0;
            for (const { gapMs, refused } of steps as Step[]) {
              now += gapMs;
              if (refused) window.requestRefused(refused, now);
              else window.requestAccepted(now);
              seen.push({ at: now, refused: refused !== null });
              const from = (Math.floor(now / 1_000) - Math.ceil(span / 1_000) + 1) * 1_000;
              const inSpan = seen.filter(({ at }) => at >= from);
              const expected = { requests: inSpan.length, refused: inSpan.filter((r) => r.refused).length };
              expect(window.primary(now)).toEqual(expected);
              expect(window.counts(span, now)).toEqual(expected);
            }
          },
        ),
        { seed: FUZZ_SEED, numRuns: 200 },
      );
    }),
  );
});

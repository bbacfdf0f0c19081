import fc from 'fast-check';
import { isValidDlrCallback } from '../../lib/payload/is-valid-dlr-callback.js';
import { validateDlrCallback } from '../../lib/webhook/dlr-payload.pipe.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

/** Values that are sometimes right for a field and often not, including the edge cases. */
const anyValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(''),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.string({ unit: 'grapheme', minLength: 250, maxLength: 260 }),
  fc.integer({ min: 250, max: 260 }).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 250, max: 260 }).map((length) => '😀'.repeat(length)),
  fc.constantFrom('DELIVRD', 'SEEN', 'NEW_STATUS', 'delivrd', 'A'.repeat(32), 'A'.repeat(33), 'DEL IVRD'),
  fc.constantFrom(
    '2020-02-04T08:09:42.389630',
    '2020-02-04T08:09:42Z',
    '2020-02-04 08:09',
    '2020-02-04',
    'now',
    '2020-13-45T99:99:99',
  ),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);
const priceInfo = fc.oneof(
  anyValue,
  fc.record(
    { part_price: anyValue, parts_count: anyValue, total_price: anyValue, extra: anyValue },
    { requiredKeys: [] },
  ),
);
const maybeValid = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: anyValue });

/** Bodies near the boundary: each field right most of the time, wrong some of the time. */
const body = fc.record(
  {
    message_id: maybeValid(fc.uuid()),
    status: maybeValid(fc.constantFrom('ACCEPTD', 'DELIVRD', 'SOME_NEW')),
    omnimessage_id: maybeValid(fc.uuid()),
    channel: maybeValid(fc.constantFrom('sms', 'viber')),
    to: maybeValid(fc.constant('+3725555555')),
    sender: maybeValid(fc.constant('Me')),
    err: maybeValid(fc.oneof(fc.integer(), fc.constant(null))),
    error: maybeValid(fc.oneof(fc.string(), fc.constant(null))),
    timestamp: maybeValid(fc.constant('2020-02-04T08:09:42.389630')),
    price_info: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          part_price: fc.constant('0.1'),
          parts_count: fc.integer(),
          total_price: fc.constant('0.1'),
        }),
      },
      { weight: 2, arbitrary: priceInfo },
    ),
    unknown_field: anyValue,
  },
  { requiredKeys: [] },
);

describe(`the fast validation path (seed ${FUZZ_SEED})`, () => {
  it(
    'gives the same verdict as class-validator on DlrCallbackDto',
    replayable(() => {
      let valid = 0;
      fc.assert(
        fc.property(body, (candidate) => {
          const fast = isValidDlrCallback(candidate);
          const reference = validateDlrCallback(candidate).length === 0;
          if (reference) valid++;
          expect(fast).toBe(reference);
        }),
        { numRuns: 30_000, seed: FUZZ_SEED },
      );
      // Both verdicts were exercised, not just one.
      expect(valid).toBeGreaterThan(1_000);
      expect(valid).toBeLessThan(29_000);
    }),
  );

  it(
    'agrees on arbitrary JSON objects',
    replayable(() => {
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.constantFrom('message_id', 'status', 'err', 'price_info', 'timestamp', 'x'),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          (candidate) => {
            expect(isValidDlrCallback(candidate)).toBe(validateDlrCallback(candidate).length === 0);
          },
        ),
        { numRuns: 10_000, seed: FUZZ_SEED },
      );
    }),
  );
});

import fc from 'fast-check';
import { decodePendingKey, encodePendingKey } from '../../lib/stores/pending-key.js';
import { FUZZ_SEED } from '../support/fuzz-seed.js';

/** Any string: NUL, `:`, digits, lone surrogates, astral characters. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('\u0000', ':', '1', '2', '\uD800', '\uDC00', '\u{1F600}'),
    maxLength: 8,
  }),
);

describe(`pending key codec (seed ${FUZZ_SEED})`, () => {
  it('round-trips any message id and status', () => {
    fc.assert(
      fc.property(text, text, (messageId, status) => {
        expect(decodePendingKey(encodePendingKey(messageId, status))).toEqual({ messageId, status });
      }),
      { numRuns: 2_000, seed: FUZZ_SEED },
    );
  });

  it('gives two different keys two different strings, where a NUL separator would not', () => {
    fc.assert(
      fc.property(text, text, text, text, (a, b, c, d) => {
        fc.pre(a !== c || b !== d);
        expect(encodePendingKey(a, b)).not.toBe(encodePendingKey(c, d));
      }),
      { numRuns: 2_000, seed: FUZZ_SEED },
    );
    expect(encodePendingKey('a\u0000b', 'DELIVRD')).not.toBe(encodePendingKey('a', 'b\u0000DELIVRD'));
  });
});

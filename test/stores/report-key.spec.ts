import fc from 'fast-check';
import { decodeReportKey, encodeReportKey } from '../../lib/stores/report-key.js';
import { FUZZ_SEED } from '../support/fuzz-seed.js';

/** Any string: NUL, `:`, digits, lone surrogates, astral characters. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('\u0000', ':', '1', '2', '\uD800', '\uDC00', '\u{1F600}'),
    maxLength: 8,
  }),
);

describe(`report key codec (seed ${FUZZ_SEED})`, () => {
  it('round-trips any message id and status', () => {
    fc.assert(
      fc.property(text, text, (messageId, status) => {
        expect(decodeReportKey(encodeReportKey(messageId, status))).toEqual({ messageId, status });
      }),
      { numRuns: 2_000, seed: FUZZ_SEED },
    );
  });

  it('gives two different keys two different strings, where a NUL separator would not', () => {
    fc.assert(
      fc.property(text, text, text, text, (a, b, c, d) => {
        fc.pre(a !== c || b !== d);
        expect(encodeReportKey(a, b)).not.toBe(encodeReportKey(c, d));
      }),
      { numRuns: 2_000, seed: FUZZ_SEED },
    );
    expect(encodeReportKey('a\u0000b', 'DELIVRD')).not.toBe(encodeReportKey('a', 'b\u0000DELIVRD'));
  });

  it('writes what JSON.stringify writes, so that keys the Redis store wrote before stay valid', () => {
    fc.assert(
      fc.property(text, text, (messageId, status) => {
        expect(encodeReportKey(messageId, status)).toBe(JSON.stringify([messageId, status]));
      }),
      { numRuns: 2_000, seed: FUZZ_SEED },
    );
    expect(encodeReportKey('5f2a9c1e-aaaa', 'DELIVRD')).toBe('["5f2a9c1e-aaaa","DELIVRD"]');
    expect(encodeReportKey('a"b\\c', '\uD800')).toBe(JSON.stringify(['a"b\\c', '\uD800']));
  });
});

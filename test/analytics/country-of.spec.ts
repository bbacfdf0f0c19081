import fc from 'fast-check';
import { countryOf, parsedCountryOf } from '../../lib/payload/country-of.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

describe('countryOf', () => {
  it('names the country of an E.164 number, with or without its +', () => {
    expect(countryOf('+37255550000')).toBe('EE');
    expect(countryOf('37255550000')).toBe('EE');
    expect(countryOf('+442071838750')).toBe('GB');
    expect(countryOf('+447400123456')).toBe('GB');
    expect(countryOf('+12015550123')).toBe('US');
    expect(countryOf('+14165550123')).toBe('CA');
  });

  it('answers _OTHER for text that is no number of any country', () => {
    for (const to of [
      '',
      '+',
      'abc',
      '+999999',
      '+441234',
      '_OTHER',
      `+372${'5'.repeat(40)}`,
      '\u0000',
      '__proto__',
    ]) {
      expect(countryOf(to)).toBe('_OTHER');
    }
  });

  it('answers _OTHER for anything but text', () => {
    for (const to of [37255550000, null, undefined, {}, ['+37255550000'], true]) {
      expect(countryOf(to)).toBe('_OTHER');
    }
  });

  it(
    `answers what a full parse answers, for any digits (seed ${FUZZ_SEED})`,
    replayable(() =>
      fc.assert(
        fc.property(
          fc.oneof(
            fc.stringMatching(/^\+?\d{1,20}$/),
            // Numbers under every calling code, short to too long.
            fc
              .tuple(
                fc.constantFrom('1', '7', '44', '372', '358', '590', '262', '86', '999'),
                fc.stringMatching(/^\d{0,18}$/),
              )
              .map(([code, rest]) => `+${code}${rest}`),
          ),
          (to) => {
            expect(countryOf(to)).toBe(parsedCountryOf(to.startsWith('+') ? to : `+${to}`));
          },
        ),
        { seed: FUZZ_SEED, numRuns: 20_000 },
      ),
    ),
  );
});

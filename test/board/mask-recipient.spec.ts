import fc from 'fast-check';
import { maskRecipient } from '../../lib/board/index.js';

describe('maskRecipient', () => {
  it('keeps + and the country code and the last 2 digits', () => {
    expect(maskRecipient('+3725555555')).toBe('+372*****55');
    expect(maskRecipient('+447700900123')).toBe('+447*******23');
  });

  it('stars a value too short to keep both ends, and answers null for a non-string', () => {
    expect(maskRecipient('+37255')).toBe('******');
    expect(maskRecipient('')).toBe('');
    expect(maskRecipient(null)).toBeNull();
    expect(maskRecipient(3725555555)).toBeNull();
  });

  it('keeps the length and never shows more than 6 characters of any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), (to) => {
        const masked = maskRecipient(to)!;
        const chars = [...to];
        expect([...masked]).toHaveLength(chars.length);
        const shown = [...masked].filter((char, i) => char === chars[i] && char !== '*').length;
        expect(shown).toBeLessThanOrEqual(6);
        if (chars.length > 6) {
          expect(masked.startsWith(chars.slice(0, 4).join(''))).toBe(true);
          expect(masked.endsWith(chars.slice(-2).join(''))).toBe(true);
        }
      }),
    );
  });
});

import { isCi } from '../support/requires.js';

describe('isCi (which runs must not skip a suite for a missing server)', () => {
  it.each(['true', '1', 'yes', 'github', 'TRUE'])('CI=%s is CI', (value) => {
    expect(isCi({ CI: value })).toBe(true);
  });

  it.each(['', 'false', '0', 'FALSE', ' '])('CI=%j is not CI', (value) => {
    expect(isCi({ CI: value })).toBe(false);
  });

  it('no CI variable is not CI', () => {
    expect(isCi({})).toBe(false);
  });
});

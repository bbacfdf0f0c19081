import fc from 'fast-check';
import { describeDlrError } from '../../lib/payload/describe-dlr-error.js';

describe('describeDlrError', () => {
  // SPEC "Error reasons", row by row.
  it.each([
    [1, 'delivery_failure', true, false],
    [2, 'expired', true, false],
    [3, 'invalid_number', false, false],
    [4, 'account_not_credited', false, true],
    [5, 'invalid_number_format', false, false],
    [6, 'too_many_identical', false, false],
    [7, 'sender_not_allowed', false, true],
    [8, 'operator_blacklisted', false, false],
    [9, 'unroutable', false, false],
    [999, 'temporary_error', true, false],
  ])('err %i is %s (retryable %s, account-level %s)', (code, reason, retryable, accountLevel) => {
    expect(describeDlrError(code)).toEqual({
      code,
      reason,
      retryable,
      accountLevel,
      text: expect.any(String),
    });
    expect(describeDlrError(code)!.text.length).toBeGreaterThan(3);
  });

  it('is null for no error: null, 0, and 10 (SEEN)', () => {
    expect(describeDlrError(null)).toBeNull();
    expect(describeDlrError(0)).toBeNull();
    expect(describeDlrError(10)).toBeNull();
  });

  it('names every undocumented code unknown, not retryable', () => {
    const documented = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 999]);
    fc.assert(
      fc.property(
        fc.integer().filter((code) => !documented.has(code)),
        (code) => {
          expect(describeDlrError(code)).toEqual({
            code,
            reason: 'unknown',
            retryable: false,
            accountLevel: false,
            text: expect.any(String),
          });
        },
      ),
    );
  });
});

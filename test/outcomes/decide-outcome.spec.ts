import fc from 'fast-check';
import { decideOutcome, isOutcomeEvent } from '../../lib/outcomes/decide-outcome.js';
import { KNOWN_STATUSES, isFinalStatus } from '../../lib/dlr-status.js';
import type { DeliveryOutcomeResult } from '../../lib/interfaces/delivery-outcome.interface.js';

const viber = (status: string | null) => ({ channel: 'viber', status });
const sms = (status: string | null) => ({ channel: 'sms', status });

describe('decideOutcome', () => {
  it('is pending until a report settles it', () => {
    expect(decideOutcome('pending', null, [viber(null), sms(null)])).toEqual({
      result: 'pending',
      deliveredVia: null,
    });
    expect(decideOutcome('pending', null, [viber('ACK'), sms(null)]).result).toBe('pending');
  });

  it('a fallback: Viber fails, SMS delivers, delivered via sms', () => {
    expect(decideOutcome('pending', null, [viber('FAILED'), sms(null)]).result).toBe('pending');
    expect(decideOutcome('pending', null, [viber('FAILED'), sms('DELIVRD')])).toEqual({
      result: 'delivered',
      deliveredVia: 'sms',
    });
  });

  it('failed only when every tracked message is final and none delivered', () => {
    expect(decideOutcome('pending', null, [viber('FAILED'), sms('UNDELIV')])).toEqual({
      result: 'failed',
      deliveredVia: null,
    });
    expect(decideOutcome('pending', null, [viber('FAILED'), sms('UNKNOWN')]).result).toBe('pending');
  });

  it('delivered stays delivered whatever comes later', () => {
    expect(decideOutcome('delivered', 'viber', [viber('FAILED'), sms('FAILED')])).toEqual({
      result: 'delivered',
      deliveredVia: 'viber',
    });
  });

  it('overdue stays overdue until a report settles it, then delivered or failed', () => {
    expect(decideOutcome('overdue', null, [sms('ACK')]).result).toBe('overdue');
    expect(decideOutcome('overdue', null, [sms('DELIVRD')]).result).toBe('delivered');
    expect(decideOutcome('overdue', null, [sms('EXPIRED')]).result).toBe('failed');
  });

  it('SEEN counts as delivered', () => {
    expect(decideOutcome('failed', null, [viber('SEEN'), sms('FAILED')])).toEqual({
      result: 'delivered',
      deliveredVia: 'viber',
    });
  });

  it('matches its definition for any statuses (property)', () => {
    const status = fc.option(fc.constantFrom(...KNOWN_STATUSES, 'NEWSTATUS'), { nil: null });
    const result = fc.constantFrom<DeliveryOutcomeResult>('pending', 'overdue', 'failed', 'delivered');
    fc.assert(
      fc.property(result, fc.array(status, { minLength: 1, maxLength: 4 }), (current, statuses) => {
        const messages = statuses.map((s, i) => ({ channel: `c${i}`, status: s }));
        const decided = decideOutcome(current, current === 'delivered' ? 'c0' : null, messages);
        const deliveredAt = statuses.findIndex((s) => s === 'DELIVRD' || s === 'SEEN');
        if (current === 'delivered') expect(decided).toEqual({ result: 'delivered', deliveredVia: 'c0' });
        else if (deliveredAt >= 0)
          expect(decided).toEqual({ result: 'delivered', deliveredVia: `c${deliveredAt}` });
        else if (statuses.every((s) => s !== null && isFinalStatus(s))) expect(decided.result).toBe('failed');
        else expect(decided.result).toBe(current === 'overdue' ? 'overdue' : 'pending');
      }),
    );
  });
});

describe('isOutcomeEvent', () => {
  it('fires when the result leaves pending or overdue, never for pending itself', () => {
    expect(isOutcomeEvent('pending', 'delivered')).toBe(true);
    expect(isOutcomeEvent('pending', 'overdue')).toBe(true);
    expect(isOutcomeEvent('overdue', 'failed')).toBe(true);
    expect(isOutcomeEvent('failed', 'delivered')).toBe(true);
    expect(isOutcomeEvent('pending', 'pending')).toBe(false);
    expect(isOutcomeEvent('delivered', 'delivered')).toBe(false);
  });
});

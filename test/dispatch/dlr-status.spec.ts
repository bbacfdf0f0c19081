import {
  FAILURE_STATUSES,
  FINAL_STATUSES,
  KNOWN_STATUSES,
  isFinalStatus,
  statusPrecedence,
} from '../../lib/dlr-status.js';

describe('dlr-status', () => {
  it('knows eleven statuses, eight of them final', () => {
    expect(KNOWN_STATUSES).toHaveLength(11);
    expect(FINAL_STATUSES).toHaveLength(8);
    expect(FAILURE_STATUSES).toEqual(['UNDELIV', 'FAILED', 'REJECTD', 'EXPIRED', 'NACK', 'DELETED']);
    expect(isFinalStatus('DELIVRD')).toBe(true);
    expect(isFinalStatus('ACK')).toBe(false);
    expect(isFinalStatus('UNKNOWN')).toBe(false);
  });

  it.each([
    ['ACCEPTD', 1],
    ['ACK', 1],
    ['UNKNOWN', 2],
    ['SOMETHING_NEW', 2],
    ['__proto__', 2],
    ['DELIVRD', 3],
    ['DELETED', 3],
    ['SEEN', 4],
  ])('ranks %s at %i', (status, rank) => {
    expect(statusPrecedence(status)).toBe(rank);
  });
});

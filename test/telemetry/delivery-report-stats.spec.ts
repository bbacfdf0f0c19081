import { DeliveryReportStats, RECENT_REFUSALS } from '../../lib/telemetry/delivery-report-stats.service.js';

describe('DeliveryReportStats', () => {
  it('counts requests, outcomes, changes by status and handler failures', () => {
    const stats = new DeliveryReportStats();
    stats.requestAccepted();
    stats.requestAccepted();
    stats.requestRefused('signature_missing', '10.0.0.1', 401);
    stats.requestRefused('signature_missing', '10.0.0.2', 401);
    stats.requestRefused('ip_not_allowed', '10.0.0.3', 403);
    stats.reportRecorded('change', 'DELIVRD');
    stats.reportRecorded('change', 'SOMETHING_NEW');
    stats.reportRecorded('duplicate', 'DELIVRD');
    stats.reportRecorded('stale', 'ACCEPTD');
    stats.handlerFailed();
    stats.handlerGaveUp();
    const snapshot = stats.snapshot();
    expect(snapshot.requests).toEqual({ accepted: 2, refused: { signature_missing: 2, ip_not_allowed: 1 } });
    expect(snapshot.reports).toEqual({ change: 2, duplicate: 1, stale: 1, redelivery: 0 });
    expect(snapshot.changesByStatus).toEqual({ DELIVRD: 1, _OTHER: 1 });
    expect(snapshot.handlerFailures).toBe(1);
    expect(snapshot.handlerExhausted).toBe(1);
    expect(snapshot.recentRefusals.map((r) => [r.reason, r.ip, r.httpStatus])).toEqual([
      ['ip_not_allowed', '10.0.0.3', 403],
      ['signature_missing', '10.0.0.2', 401],
      ['signature_missing', '10.0.0.1', 401],
    ]);
  });

  it('keeps only the last 100 refusals, newest first, however many arrive', () => {
    const stats = new DeliveryReportStats();
    for (let i = 0; i < 1_000; i++) stats.requestRefused('invalid_body', `ip-${i}`, 400);
    const recent = stats.snapshot().recentRefusals;
    expect(recent).toHaveLength(RECENT_REFUSALS);
    expect(recent[0]!.ip).toBe('ip-999');
    expect(recent[99]!.ip).toBe('ip-900');
    expect(stats.snapshot().requests.refused).toEqual({ invalid_body: 1_000 });
  });

  it('starts from zero after reset(), with a new `since`', async () => {
    const stats = new DeliveryReportStats();
    const before = stats.snapshot().since;
    stats.requestRefused('payload_too_large', '::1', 413);
    stats.reportRecorded('change', 'SEEN');
    await new Promise((resolve) => setTimeout(resolve, 5));
    stats.reset();
    const snapshot = stats.snapshot();
    expect(snapshot.since.getTime()).toBeGreaterThan(before.getTime());
    expect(snapshot.requests).toEqual({ accepted: 0, refused: {} });
    expect(snapshot.changesByStatus).toEqual({});
    expect(snapshot.recentRefusals).toEqual([]);
  });
});

import type { TrackInput } from '../interfaces/outcome-store.interface.js';
import type { DlrOutcomeStore } from '../interfaces/outcome-store.interface.js';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import { trackingOf } from '../stores/tracking-of.js';
import type { ContractContext } from './dlr-store-contract.context.js';

let sequence = 0;

/** A send of one message per channel, with fresh ids, due `LONG` after `T`. */
export function sendInput(
  T: number,
  LONG: number,
  channels: readonly string[],
  extra: Partial<TrackInput> = {},
): TrackInput {
  const omnimessageId = `omni-${++sequence}-${Math.random().toString(36).slice(2)}`;
  return {
    omnimessageId,
    ref: null,
    to: '+37255550000',
    account: null,
    deadline: T + LONG,
    messages: channels.map((channel, index) => ({ messageId: `${omnimessageId}-m${index}`, channel })),
    ...extra,
  };
}

/** The callback body of the `index`th message of a tracked send. */
export function sentReport(input: TrackInput, index: number, status: string, err: number | null = null) {
  return {
    message_id: input.messages[index]!.messageId,
    omnimessage_id: input.omnimessageId,
    channel: input.messages[index]!.channel,
    status,
    err,
  };
}

/**
 * The tracking part of the contract (`DlrOutcomeStore`): tracking before and after reports,
 * idempotency and the write-once ref, fallback, failed and overdue, leases of outcome changes,
 * and lookups by ref.
 */
export function describeTracking(context: ContractContext): void {
  const { it: test, expect, T, LONG, timeoutMs } = context;
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);
  const store = (): DlrStore & DlrOutcomeStore => {
    const tracking = trackingOf(context.store());
    if (!tracking) throw new Error('the store does not implement DlrOutcomeStore (every tracking method)');
    return tracking;
  };
  const send = (channels: readonly string[], extra: Partial<TrackInput> = {}) =>
    sendInput(T, LONG, channels, extra);
  const report = sentReport;

  it('tracks an omnimessage as pending, in fallback order, and reads it back', async () => {
    const input = send(['viber', 'sms'], { ref: 'order-1', account: 'shop-ee' });
    const tracked = await store().track(input, T, LONG);
    expect(tracked.status).toBe('tracked');
    expect(tracked.change).toBeNull();
    expect(tracked.outcome).toEqual({
      omnimessageId: input.omnimessageId,
      ref: 'order-1',
      to: '+37255550000',
      account: 'shop-ee',
      result: 'pending',
      deliveredVia: null,
      settledAt: null,
      deadline: T + LONG,
      trackedAt: T,
      messages: [
        { messageId: input.messages[0]!.messageId, channel: 'viber', status: null, err: null, at: null },
        { messageId: input.messages[1]!.messageId, channel: 'sms', status: null, err: null, at: null },
      ],
    });
    expect(await store().outcome(input.omnimessageId)).toEqual(tracked.outcome);
    expect(await store().outcome('never-tracked')).toBeNull();
  });

  it('a report after track(): the change that settles it comes with the report, leased', async () => {
    const input = send(['sms']);
    await store().track(input, T, LONG);
    const result = await store().record(report(input, 0, 'DELIVRD'), T + 5, LONG);
    expect(result.outcome).toBe('change');
    expect(result.outcomeChange?.previousResult).toBe('pending');
    expect(result.outcomeChange?.outcome).toMatchObject({
      result: 'delivered',
      deliveredVia: 'sms',
      settledAt: T + 5,
    });
    expect(result.outcomeChange?.outcome.messages[0]).toMatchObject({ status: 'DELIVRD', at: T + 5 });
    expect(await store().countPendingOutcomes()).toBe(1);
    // Leased to the caller: a sweep that starts before the lease ends finds nothing.
    expect(await store().claimPendingOutcomes(10, LONG, T + 6)).toEqual([]);
    await store().completeOutcome({ omnimessageId: input.omnimessageId, result: 'delivered' });
    expect(await store().countPendingOutcomes()).toBe(0);
  });

  it('a report before track(): tracking links it and settles at once', async () => {
    const input = send(['sms'], { ref: 'login-7' });
    await store().record(report(input, 0, 'DELIVRD'), T, LONG);
    const tracked = await store().track(input, T + 10, LONG);
    expect(tracked.status).toBe('tracked');
    expect(tracked.outcome).toMatchObject({ result: 'delivered', deliveredVia: 'sms', settledAt: T + 10 });
    expect(tracked.change).toEqual({ outcome: tracked.outcome, previousResult: 'pending' });
    expect(await store().countPendingOutcomes()).toBe(1);
  });

  it('tracking again changes nothing; only another ref is refused', async () => {
    const input = send(['sms'], { ref: 'order-2' });
    const first = await store().track(input, T, LONG);
    const again = await store().track({ ...input, deadline: T + 5, to: '+1' }, T + 1, LONG);
    expect(again).toEqual({ status: 'existing', outcome: first.outcome, change: null });
    expect((await store().track({ ...input, ref: null }, T + 2, LONG)).status).toBe('existing');
    const other = await store().track({ ...input, ref: 'order-3' }, T + 3, LONG);
    expect(other.status).toBe('ref_conflict');
    expect(other.outcome.ref).toBe('order-2');
    expect((await store().outcome(input.omnimessageId))?.ref).toBe('order-2');
  });

  it('a fallback: Viber fails, SMS delivers; delivered stays delivered', async () => {
    const input = send(['viber', 'sms']);
    await store().track(input, T, LONG);
    const failed = await store().record(report(input, 0, 'FAILED', 1), T + 1, LONG);
    expect(failed.outcomeChange ?? null).toBeNull();
    expect((await store().outcome(input.omnimessageId))?.messages[0]).toMatchObject({
      status: 'FAILED',
      err: 1,
    });
    const delivered = await store().record(report(input, 1, 'DELIVRD'), T + 2, LONG);
    expect(delivered.outcomeChange?.outcome).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    const later = await store().record(report(input, 1, 'FAILED', 1), T + 3, LONG);
    expect(later.outcome).toBe('change');
    expect(later.outcomeChange ?? null).toBeNull();
    expect(await store().outcome(input.omnimessageId)).toMatchObject({
      result: 'delivered',
      deliveredVia: 'sms',
    });
  });

  it('failed only once every tracked message is final and none delivered', async () => {
    const input = send(['viber', 'sms']);
    await store().track(input, T, LONG);
    await store().record(report(input, 0, 'FAILED', 1), T + 1, LONG);
    expect((await store().record(report(input, 1, 'ACK'), T + 2, LONG)).outcomeChange ?? null).toBeNull();
    const result = await store().record(report(input, 1, 'UNDELIV', 3), T + 3, LONG);
    expect(result.outcomeChange).toMatchObject({ previousResult: 'pending' });
    expect(result.outcomeChange?.outcome).toMatchObject({
      result: 'failed',
      deliveredVia: null,
      settledAt: T + 3,
    });
  });

  it('duplicates and stale reports change no outcome', async () => {
    const input = send(['sms']);
    await store().track(input, T, LONG);
    await store().record(report(input, 0, 'DELIVRD'), T + 1, LONG);
    expect((await store().record(report(input, 0, 'DELIVRD'), T + 2, LONG)).outcomeChange ?? null).toBeNull();
    expect((await store().record(report(input, 0, 'ACK'), T + 3, LONG)).outcomeChange ?? null).toBeNull();
    expect(await store().countPendingOutcomes()).toBe(1);
  });

  it('overdue: one sweeper wins the candidate, it becomes overdue, and a late report still delivers', async () => {
    const input = send(['sms'], { deadline: T + 100 });
    await store().track(input, T, LONG);
    expect(await store().claimOverdue(T + 99, 10, LONG)).toEqual([]);
    const claimed = await store().claimOverdue(T + 100, 10, LONG);
    expect(claimed.map((outcome) => outcome.omnimessageId)).toEqual([input.omnimessageId]);
    expect(await store().claimOverdue(T + 101, 10, LONG)).toEqual([]);
    const overdue = await store().markOverdue(input.omnimessageId, T + 102, LONG);
    expect(overdue).toMatchObject({
      previousResult: 'pending',
      outcome: { result: 'overdue', settledAt: null },
    });
    expect(await store().markOverdue(input.omnimessageId, T + 103, LONG)).toBeNull();
    const late = await store().record(report(input, 0, 'DELIVRD'), T + 200, LONG);
    expect(late.outcomeChange).toMatchObject({ previousResult: 'overdue', outcome: { result: 'delivered' } });
  });

  it('a candidate a report settled meanwhile is not made overdue', async () => {
    const input = send(['sms'], { deadline: T + 100 });
    await store().track(input, T, LONG);
    await store().claimOverdue(T + 100, 10, LONG);
    await store().record(report(input, 0, 'EXPIRED', 2), T + 101, LONG);
    expect(await store().markOverdue(input.omnimessageId, T + 102, LONG)).toBeNull();
    expect((await store().outcome(input.omnimessageId))?.result).toBe('failed');
  });

  it('a pending outcome change whose lease ran out is claimed again, and released ones at once', async () => {
    const input = send(['sms']);
    await store().track(input, T, 10);
    await store().record(report(input, 0, 'DELIVRD'), T, 10);
    const claimed = await store().claimPendingOutcomes(10, LONG);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]).toMatchObject({ previousResult: 'pending', outcome: { result: 'delivered' } });
    expect(await store().claimPendingOutcomes(10, LONG)).toEqual([]);
    await store().releaseOutcome({ omnimessageId: input.omnimessageId, result: 'delivered' });
    expect(await store().claimPendingOutcomes(10, LONG)).toHaveLength(1);
  });

  it('finds tracked omnimessages by ref, newest first', async () => {
    const older = send(['sms'], { ref: 'customer-9' });
    const newer = send(['sms'], { ref: 'customer-9' });
    await store().track(older, T, LONG);
    await store().track(newer, T + 1, LONG);
    await store().track(send(['sms'], { ref: 'customer-10' }), T + 2, LONG);
    const found = await store().findByRef('customer-9', 10);
    expect(found.map((outcome) => outcome.omnimessageId)).toEqual([newer.omnimessageId, older.omnimessageId]);
    expect(await store().findByRef('customer-9', 1)).toHaveLength(1);
    expect(await store().findByRef('nobody', 10)).toEqual([]);
  });
}

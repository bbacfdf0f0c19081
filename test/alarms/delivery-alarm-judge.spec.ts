import { ACCOUNT_ALARM_CLEARS_AFTER_MS, DeliveryAlarmJudge } from '../../lib/alarms/delivery-alarm-judge.js';
import { MAX_PENDING_LOOKUPS } from '../../lib/alarms/pending-sends.js';
import type { DeliveryAlarm, StoredOutcome, StoredReport } from '../../lib/index.js';
import type { ResolvedAlarmOptions } from '../../lib/interfaces/resolved-dlr-options.interface.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const DEFAULTS: ResolvedAlarmOptions = {
  refusalRatio: 0.5,
  minRequests: 10,
  windowMs: 300_000,
  silentForMs: null,
};

function judgeWith(options: Partial<ResolvedAlarmOptions> = {}) {
  const alarms: DeliveryAlarm[] = [];
  const judge = new DeliveryAlarmJudge({ ...DEFAULTS, ...options }, (alarm) => alarms.push(alarm));
  const states = (kind: DeliveryAlarm['kind']) =>
    alarms.filter((alarm) => alarm.kind === kind).map((alarm) => alarm.state);
  return { judge, alarms, states };
}

function report(err: number | null, account: string | null = null, messageId = 'm-1'): StoredReport {
  return {
    messageId,
    status: 'FAILED',
    raw: { message_id: messageId, status: 'FAILED', err },
    receivedAt: T0,
    previousStatus: null,
    account,
  };
}

function outcome(id: string, result: StoredOutcome['result'], trackedAt: number): StoredOutcome {
  return {
    omnimessageId: id,
    ref: null,
    to: null,
    account: null,
    result,
    deliveredVia: null,
    settledAt: null,
    deadline: trackedAt + 3_600_000,
    trackedAt,
    messages: [],
  };
}

/** A store whose `outcome()` answers from a map, counting calls. */
function storeOf(outcomes: Map<string, StoredOutcome>) {
  const store = {
    calls: 0,
    failing: false,
    outcome(id: string): Promise<StoredOutcome | null> {
      store.calls++;
      if (store.failing) return Promise.reject(new Error('store down'));
      return Promise.resolve(outcomes.get(id) ?? null);
    },
  };
  return store;
}

describe('DeliveryAlarmJudge: refusals', () => {
  it('raises above the ratio with enough requests, once, and clears at or below it', () => {
    const { judge, states, alarms } = judgeWith();
    for (let i = 0; i < 5; i++) judge.requestAccepted(T0);
    for (let i = 0; i < 5; i++) judge.requestRefused('signature_invalid', T0);
    // 10 requests, 5 refused: 0.5 is not above 0.5.
    expect(alarms).toEqual([]);
    judge.requestRefused('ip_not_allowed', T0);
    expect(states('refusals')).toEqual(['raised']);
    for (let i = 0; i < 3; i++) judge.requestRefused('ip_not_allowed', T0);
    expect(states('refusals')).toEqual(['raised']);
    // 14 requests, 9 refused; 4 more accepted make 18 and 0.5.
    for (let i = 0; i < 3; i++) judge.requestAccepted(T0);
    expect(states('refusals')).toEqual(['raised']);
    judge.requestAccepted(T0);
    expect(states('refusals')).toEqual(['raised', 'cleared']);
    expect(alarms[1]).toMatchObject({
      detail: { requests: 18, refused: 9, ratio: 0.5, topReason: 'signature_invalid' },
    });
  });

  it('stays raised while few requests still hold a refusal; clears by time once none is left', () => {
    const { judge, states } = judgeWith({ windowMs: 60_000 });
    for (let i = 0; i < 10; i++) judge.requestRefused('signature_missing', T0 + i * 1_000);
    expect(states('refusals')).toEqual(['raised']);
    judge.tick(T0 + 65_000);
    // The refusals of seconds 0 to 5 left; 4 are left, fewer than minRequests: still raised.
    expect(states('refusals')).toEqual(['raised']);
    judge.tick(T0 + 68_999);
    expect(states('refusals')).toEqual(['raised']);
    judge.tick(T0 + 69_000);
    expect(states('refusals')).toEqual(['raised', 'cleared']);
    judge.tick(T0 + 80_000);
    expect(states('refusals')).toEqual(['raised', 'cleared']);
  });

  it('gives the health indicator the last 5 minutes, whatever the alarm window', () => {
    const { judge } = judgeWith({ windowMs: 1_000 });
    for (let i = 0; i < 10; i++) judge.requestRefused('signature_invalid', T0);
    judge.requestAccepted(T0 + 100_000);
    expect(judge.refusals(300_000, T0 + 100_000)).toEqual({
      requests: 11,
      refused: 10,
      ratio: 10 / 11,
      topReason: 'signature_invalid',
    });
    expect(judge.refusals(300_000, T0 + 300_000)).toMatchObject({ requests: 1, refused: 0, ratio: 0 });
  });
});

describe('DeliveryAlarmJudge: account', () => {
  it('raises per account and reason; clears an hour after the latest such report', () => {
    const { judge, alarms, states } = judgeWith();
    judge.reportChanged(report(4, 'a'), T0);
    judge.reportChanged(report(3, 'a'), T0);
    judge.reportChanged(report(null, 'a'), T0);
    expect(alarms).toEqual([
      expect.objectContaining({
        kind: 'account',
        state: 'raised',
        since: new Date(T0),
        detail: {
          account: 'a',
          reason: 'account_not_credited',
          err: 4,
          messageId: 'm-1',
          lastReportAt: new Date(T0),
        },
      }),
    ]);
    judge.reportChanged(report(4, 'a', 'm-2'), T0 + 1_800_000);
    judge.reportChanged(report(4, 'b'), T0 + 1_800_000);
    judge.reportChanged(report(7, 'a'), T0 + 1_800_000);
    expect(alarms.map(({ detail }) => detail)).toEqual([
      expect.objectContaining({ account: 'a', reason: 'account_not_credited' }),
      expect.objectContaining({ account: 'b', reason: 'account_not_credited' }),
      expect.objectContaining({ account: 'a', reason: 'sender_not_allowed' }),
    ]);
    // An hour after T0, but the second report of (a, err 4) was at T0 + 30 min.
    judge.tick(T0 + ACCOUNT_ALARM_CLEARS_AFTER_MS);
    expect(states('account')).toEqual(['raised', 'raised', 'raised']);
    judge.tick(T0 + 1_800_000 + ACCOUNT_ALARM_CLEARS_AFTER_MS);
    expect(states('account')).toEqual(['raised', 'raised', 'raised', 'cleared', 'cleared', 'cleared']);
    expect(alarms[3]).toMatchObject({ state: 'cleared', detail: { account: 'a', messageId: 'm-2' } });
    // Cleared: the next such report raises again.
    judge.reportChanged(report(4, 'a'), T0 + 10_000_000);
    expect(states('account').at(-1)).toBe('raised');
  });
});

describe('DeliveryAlarmJudge: silence', () => {
  it('is off without silentForMs', async () => {
    const { judge, alarms } = judgeWith();
    const outcomes = new Map([['o-1', outcome('o-1', 'pending', T0)]]);
    judge.tracked(outcomes.get('o-1')!, T0);
    await judge.judgeSilence(storeOf(outcomes), T0 + 10_000_000);
    expect(alarms).toEqual([]);
  });

  it('counts from the later of the last accepted request and the tracked send, asking the store only then', async () => {
    const { judge, states } = judgeWith({ silentForMs: 1_000 });
    const outcomes = new Map([['o-1', outcome('o-1', 'pending', T0 + 500)]]);
    const store = storeOf(outcomes);
    judge.requestAccepted(T0 + 800);
    judge.tracked(outcomes.get('o-1')!, T0 + 500);
    await judge.judgeSilence(store, T0 + 1_700);
    expect(store.calls).toBe(0);
    expect(states('silence')).toEqual([]);
    await judge.judgeSilence(store, T0 + 1_800);
    expect(states('silence')).toEqual(['raised']);
    await judge.judgeSilence(store, T0 + 5_000);
    expect(states('silence')).toEqual(['raised']);
    judge.requestAccepted(T0 + 5_100);
    expect(states('silence')).toEqual(['raised', 'cleared']);
    expect(await judge.silentFor(store, T0 + 5_600)).toBe(500);
  });

  it('forgets sends the store says are settled (another instance got their report), and clears then', async () => {
    const { judge, states } = judgeWith({ silentForMs: 1_000 });
    const outcomes = new Map([
      ['o-1', outcome('o-1', 'pending', T0)],
      ['o-2', outcome('o-2', 'pending', T0)],
    ]);
    const store = storeOf(outcomes);
    for (const sent of outcomes.values()) judge.tracked(sent, T0);
    await judge.judgeSilence(store, T0 + 1_000);
    expect(states('silence')).toEqual(['raised']);
    outcomes.set('o-1', outcome('o-1', 'delivered', T0));
    await judge.judgeSilence(store, T0 + 2_000);
    expect(states('silence')).toEqual(['raised']);
    // o-2 is settled where this process saw it: no store call needed to forget it.
    judge.outcomeChanged(outcome('o-2', 'failed', T0));
    store.calls = 0;
    await judge.judgeSilence(store, T0 + 3_000);
    expect(store.calls).toBe(0);
    expect(states('silence')).toEqual(['raised', 'cleared']);
    expect(judge.pending.size).toBe(0);
  });

  it('a send past its deadline is not pending; a failing store changes nothing', async () => {
    const { judge, states } = judgeWith({ silentForMs: 1_000 });
    const outcomes = new Map([['o-1', outcome('o-1', 'pending', T0)]]);
    const store = storeOf(outcomes);
    judge.tracked(outcomes.get('o-1')!, T0);
    store.failing = true;
    await judge.judgeSilence(store, T0 + 2_000);
    expect(states('silence')).toEqual([]);
    expect(await judge.silentFor(store, T0 + 2_000)).toBe('unknown');
    store.failing = false;
    await judge.judgeSilence(store, T0 + 2_000);
    expect(states('silence')).toEqual(['raised']);
    await judge.judgeSilence(store, T0 + 3_600_000);
    expect(states('silence')).toEqual(['raised', 'cleared']);
    expect(await judge.silentFor(store, T0 + 3_600_000)).toBeNull();
  });

  it('looks up at most MAX_PENDING_LOOKUPS sends per judgement, going on from there next time', async () => {
    const { judge, states } = judgeWith({ silentForMs: 1_000 });
    const outcomes = new Map<string, StoredOutcome>();
    for (let i = 0; i < MAX_PENDING_LOOKUPS + 5; i++) {
      const id = `o-${i}`;
      judge.tracked(outcome(id, 'pending', T0), T0);
      outcomes.set(id, outcome(id, i === MAX_PENDING_LOOKUPS + 4 ? 'pending' : 'delivered', T0));
    }
    const store = storeOf(outcomes);
    await judge.judgeSilence(store, T0 + 2_000);
    expect(store.calls).toBe(MAX_PENDING_LOOKUPS);
    expect(states('silence')).toEqual([]);
    await judge.judgeSilence(store, T0 + 2_000);
    expect(store.calls).toBe(MAX_PENDING_LOOKUPS + 5);
    expect(states('silence')).toEqual(['raised']);
  });
});

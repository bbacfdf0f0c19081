import { DELIVERY_BIN_COUNT, deliveryBinOf } from '../analytics/delivery-bins.js';
import { MINUTE_MS, deliveryWindowRange } from '../analytics/delivery-window.js';
import { summarizeDelivery } from '../analytics/summarize-delivery.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
  DlrDeliveryStatsStore,
} from '../interfaces/delivery-stats.interface.js';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import type { ContractContext } from './dlr-store-contract.context.js';

/** A channel and country's counts over a whole window, whichever way the store split them in rows. */
interface Totals {
  started: number;
  delivered: number;
  failed: number;
  bins: number[];
  reasons: Record<string, number>;
}

/** The rows summed per channel and country (`sms EE`), reasons without zero counts. */
function totalsOf(rows: readonly DeliveryBucketRow[]): Record<string, Totals> {
  const totals: Record<string, Totals> = {};
  const reasons = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const key = `${row.channel} ${row.country}`;
    const sum = (totals[key] ??= {
      started: 0,
      delivered: 0,
      failed: 0,
      bins: new Array<number>(DELIVERY_BIN_COUNT).fill(0),
      reasons: {},
    });
    sum.started += row.started;
    sum.delivered += row.delivered;
    sum.failed += row.failed;
    row.bins.forEach((count, bin) => (sum.bins[bin]! += count));
    const mine = reasons.get(key) ?? new Map<string, number>();
    reasons.set(key, mine);
    for (const [reason, count] of Object.entries(row.reasons))
      mine.set(reason, (mine.get(reason) ?? 0) + count);
  }
  for (const [key, mine] of reasons) {
    // fromEntries: a reason named `__proto__` stays an own property.
    totals[key]!.reasons = Object.fromEntries([...mine].filter(([, count]) => count !== 0));
  }
  return totals;
}

/** Bins with `count` durations in the bin of each of `seconds`. */
function binsOf(...seconds: number[]): number[] {
  const bins = new Array<number>(DELIVERY_BIN_COUNT).fill(0);
  for (const value of seconds) bins[deliveryBinOf(value)]!++;
  return bins;
}

/** Expected totals: zeros unless given. */
function expected(counts: Partial<Totals>): Totals {
  return { started: 0, delivered: 0, failed: 0, bins: binsOf(), reasons: {}, ...counts };
}

/**
 * Delivery analytics in the contract (`DlrDeliveryStatsStore`): each message started once, only
 * its first final step counted, its duration from the earliest start into the histogram, failures
 * by reason, steps counted in the minute and hour of their `receivedAt` and answered by window,
 * odd ids and reasons, and tallies given twice at once counted once.
 */
export function describeDeliveryStats(context: ContractContext): void {
  const { it: test, expect, timeoutMs } = context;
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);
  const store = (): DlrStore & DlrDeliveryStatsStore => {
    const subject = context.store();
    if (typeof subject.tallyDelivery !== 'function' || typeof subject.deliveryBuckets !== 'function') {
      throw new Error(
        'the store does not implement DlrDeliveryStatsStore (tallyDelivery and deliveryBuckets)',
      );
    }
    return subject as DlrStore & DlrDeliveryStatsStore;
  };
  /** The store's rows of `window` ending at `now`, checked for shape, summed per channel and country. */
  const totals = async (window: DeliveryWindow, now: number): Promise<Record<string, Totals>> => {
    const rows = await store().deliveryBuckets(window, now);
    for (const row of rows) expect(row.bins).toHaveLength(DELIVERY_BIN_COUNT);
    return totalsOf(rows);
  };
  // Steps a few minutes ago: well inside both windows, and in buckets a store keeps.
  const base = () => Date.now() - 5 * MINUTE_MS;
  const step = (
    messageId: string,
    kind: DeliveryTally['step'],
    at: number,
    extra: Partial<DeliveryTally> = {},
  ): DeliveryTally => ({
    messageId,
    channel: 'sms',
    country: 'EE',
    step: kind,
    reason: null,
    at,
    receivedAt: at,
    ...extra,
  });

  it('answers no counts before any tally', async () => {
    const now = Date.now();
    expect(await totals('1h', now)).toEqual({});
    expect(await totals('24h', now)).toEqual({});
  });

  it('counts a message started once, however many steps start it', async () => {
    const t = base();
    const answers = await store().tallyDelivery([step('d1', 'started', t), step('d1', 'started', t + 1000)]);
    expect(answers).toEqual([null, null]);
    expect(await store().tallyDelivery([step('d1', 'started', t + 2000)])).toEqual([null]);
    const now = Date.now();
    expect(await totals('1h', now)).toEqual({ 'sms EE': expected({ started: 1 }) });
    expect(await totals('24h', now)).toEqual({ 'sms EE': expected({ started: 1 }) });
  });

  it('counts only the first final step, its duration from the start into its bin', async () => {
    const t = base();
    await store().tallyDelivery([step('d1', 'started', t), step('d2', 'started', t)]);
    const answers = await store().tallyDelivery([
      step('d1', 'delivered', t + 7_000),
      step('d1', 'failed', t + 8_000, { reason: 'late' }),
      step('d1', 'delivered', t + 9_000),
      step('d2', 'failed', t + 1_000, { reason: 'no_route' }),
      step('d2', 'delivered', t + 2_000),
    ]);
    expect(answers).toEqual([7, null, null, null, null]);
    expect(await store().tallyDelivery([step('d1', 'delivered', t + 20_000)])).toEqual([null]);
    const summed = { started: 2, delivered: 1, failed: 1, bins: binsOf(7), reasons: { no_route: 1 } };
    expect(await totals('1h', Date.now())).toEqual({ 'sms EE': expected(summed) });
    expect(await totals('24h', Date.now())).toEqual({ 'sms EE': expected(summed) });
  });

  it('measures from the earliest start: a track() after the first report moves the start back', async () => {
    const t = base();
    await store().tallyDelivery([step('d1', 'started', t)]);
    // The app's clock at track(), a minute before the report's own timestamp.
    await store().tallyDelivery([step('d1', 'started', t - 60_000, { receivedAt: t + 1000 })]);
    // A later report (ACK, say) starts nothing again.
    await store().tallyDelivery([step('d1', 'started', t + 5_000)]);
    expect(await store().tallyDelivery([step('d1', 'delivered', t + 30_000)])).toEqual([90]);
    expect(await totals('1h', Date.now())).toEqual({
      'sms EE': expected({ started: 1, delivered: 1, bins: binsOf(90) }),
    });
  });

  it('starts a message first heard of at its final step, without a duration', async () => {
    const t = base();
    const answers = await store().tallyDelivery([
      step('d1', 'delivered', t),
      step('d2', 'failed', t),
      step('d3', 'failed', t, { reason: 'no_credit' }),
      // Its start comes after the final step: too late to measure it.
      step('d1', 'started', t - 10_000),
    ]);
    expect(answers).toEqual([null, null, null, null]);
    expect(await totals('1h', Date.now())).toEqual({
      'sms EE': expected({ started: 3, delivered: 1, failed: 2, reasons: { unknown: 1, no_credit: 1 } }),
    });
  });

  it('fills each bin of the histogram, a duration on a bound in the bin of that bound', async () => {
    const t = base();
    // One second under, on, and past each bound, and a negative duration (clocks apart) in the first bin.
    const seconds = [0, 1, 1.5, 2, 86_400, 86_401, 200_000, -3];
    await store().tallyDelivery(seconds.map((_, i) => step(`h${i}`, 'started', t)));
    const answers = await store().tallyDelivery(
      seconds.map((value, i) => step(`h${i}`, 'delivered', t + value * 1000, { receivedAt: t })),
    );
    expect(answers.slice(0, -1)).toEqual(seconds.slice(0, -1));
    // Negative: the signed duration or 0, as the store likes; never null, the start being known.
    expect([answers.at(-1), (answers.at(-1) ?? 1) <= 0]).toEqual([answers.at(-1), true]);
    expect((await totals('1h', Date.now()))['sms EE']?.bins).toEqual(binsOf(...seconds));
  });

  it('keeps rows per channel and country, and failures per reason', async () => {
    const t = base();
    const pairs = [
      ['sms', 'EE'],
      ['sms', 'GB'],
      ['viber', 'EE'],
      ['whatsapp', '_OTHER'],
    ] as const;
    await store().tallyDelivery(
      pairs.flatMap(([channel, country], i) => [
        step(`p${i}-a`, 'started', t, { channel, country }),
        step(`p${i}-b`, 'started', t, { channel, country }),
        step(`p${i}-a`, 'delivered', t + (i + 1) * 10_000, { channel, country }),
        step(`p${i}-b`, 'failed', t + 1000, { channel, country, reason: i % 2 ? 'expired' : 'no_route' }),
      ]),
    );
    const expectedTotals = Object.fromEntries(
      pairs.map(([channel, country], i) => [
        `${channel} ${country}`,
        expected({
          started: 2,
          delivered: 1,
          failed: 1,
          bins: binsOf((i + 1) * 10),
          reasons: { [i % 2 ? 'expired' : 'no_route']: 1 },
        }),
      ]),
    );
    const now = Date.now();
    expect(await totals('1h', now)).toEqual(expectedTotals);
    const stats = summarizeDelivery('24h', now, await store().deliveryBuckets('24h', now));
    expect(stats.total).toMatchObject({ delivered: 4, failed: 4, pending: 0, rate: 0.5, p50Seconds: 30 });
    expect(stats.byChannel.map((group) => [group.key, group.delivered + group.failed])).toEqual([
      ['sms', 4],
      ['viber', 2],
      ['whatsapp', 2],
    ]);
    expect(stats.failuresByReason).toEqual([
      { reason: 'expired', count: 2 },
      { reason: 'no_route', count: 2 },
    ]);
  });

  it('counts each step in the minute and hour of its receivedAt, answered by window', async () => {
    const now = Date.now();
    const hour = deliveryWindowRange('1h', now);
    const day = deliveryWindowRange('24h', now);
    // Started in the minute 61 minutes ago (not in 1h, in 24h), delivered in the first minute of 1h.
    const early = now - 61 * MINUTE_MS;
    await store().tallyDelivery([step('w1', 'started', early)]);
    await store().tallyDelivery([step('w1', 'delivered', early + 120_000, { receivedAt: hour.first })]);
    // Started and failed in the last minute before 1h.
    await store().tallyDelivery([
      step('w2', 'started', hour.first - 1, { channel: 'viber' }),
      step('w2', 'failed', hour.first - 1, { channel: 'viber', reason: 'expired' }),
    ]);
    // Counted in the hour just before 24h: in no window.
    await store().tallyDelivery([step('w3', 'started', day.first - 1, { channel: 'rcs' })]);
    expect(await totals('1h', now)).toEqual({ 'sms EE': expected({ delivered: 1, bins: binsOf(120) }) });
    expect(await totals('24h', now)).toEqual({
      'sms EE': expected({ started: 1, delivered: 1, bins: binsOf(120) }),
      'viber EE': expected({ started: 1, failed: 1, reasons: { expired: 1 } }),
    });
    // The same buckets seen from a minute and from an hour later.
    expect(await totals('1h', now + MINUTE_MS)).toEqual({});
    expect(Object.keys(await totals('24h', day.last + 60 * MINUTE_MS)).sort()).toEqual([
      'sms EE',
      'viber EE',
    ]);
  });

  it('keeps apart ids that differ only where a NUL falls, and odd ids and reasons', async () => {
    const t = base();
    const ids = ['a\u0000b', 'a', '__proto__', 'constructor', '中文-"\'\\'];
    await store().tallyDelivery(ids.map((id) => step(id, 'started', t)));
    const answers = await store().tallyDelivery([
      ...ids.map((id, i) => step(id, i % 2 ? 'delivered' : 'failed', t + 3000, { reason: '__proto__' })),
      step('b', 'delivered', t + 3000),
    ]);
    expect(answers).toEqual([null, 3, null, 3, null, null]);
    expect(await totals('1h', Date.now())).toEqual({
      'sms EE': expected({
        started: 6,
        delivered: 3,
        failed: 3,
        bins: binsOf(3, 3),
        reasons: { ['__proto__']: 3 },
      }),
    });
  });

  it('counts the same tallies given several times at once only once', async () => {
    const t = base();
    const tallies = [
      ...Array.from({ length: 5 }, (_, i) => step(`c${i}`, 'started', t)),
      ...Array.from({ length: 3 }, (_, i) => step(`c${i}`, 'delivered', t + 5000)),
      step('c3', 'failed', t + 5000, { reason: 'expired' }),
      step('c9', 'delivered', t + 5000),
    ];
    const copies = 5;
    const answers = await Promise.all(Array.from({ length: copies }, () => store().tallyDelivery(tallies)));
    // Each measured delivery is answered by exactly one of the calls.
    for (const [index, tally] of tallies.entries()) {
      const measured = answers.map((answer) => answer[index]).filter((value) => value !== null);
      expect(measured).toEqual(tally.step === 'delivered' && tally.messageId !== 'c9' ? [5] : []);
    }
    expect(await totals('1h', Date.now())).toEqual({
      'sms EE': expected({
        started: 6,
        delivered: 4,
        failed: 1,
        bins: binsOf(5, 5, 5),
        reasons: { expired: 1 },
      }),
    });
  });
}

import type { DlrStore, StoredReport } from '../interfaces/dlr-store.interface.js';
import { type ContractContext, dlr, ids } from './dlr-store-contract.context.js';
import { describeFeedAndSearch } from './dlr-store-contract.feed.js';
import { describeTracking } from './dlr-store-contract.tracking.js';
import { describeAccounts } from './dlr-store-contract.accounts.js';
import { describeDeliveryStats } from './dlr-store-contract.delivery.js';
import { testRunnerGlobals } from './test-runner-globals.js';

/** How `describeDlrStoreContract` gets and disposes of the store under test. */
export interface DlrStoreContractOptions {
  /** A fresh, empty store, for each test (and several in one test). */
  create(): DlrStore | Promise<DlrStore>;
  /** Disposes of a store `create` made, after its test. Default: `store.close?.()`. */
  cleanup?(store: DlrStore): void | Promise<void>;
  /** Timeout of each test, in ms; default the runner's. The feed test records 510 reports. */
  timeoutMs?: number;
  /** Also run the tracking tests: for a store that implements `DlrOutcomeStore`. Default false. */
  tracking?: boolean;
  /**
   * Also run the delivery analytics tests: for a store that implements `DlrDeliveryStatsStore`
   * (`tallyDelivery`, `deliveryBuckets`). Default false.
   */
  deliveryStats?: boolean;
}

/**
 * Registers, in a `describe(name)` block, the tests every `DlrStore` must pass: the change
 * semantics (dedup, precedence, stale reports), leases, claims and redeliveries, the queries,
 * the feed and the search, odd ids (NUL, `__proto__`, any Unicode), the account kept with each
 * report, with `tracking` the outcomes of tracked sends, and with `deliveryStats` the delivery
 * analytics' counts. Call it at the top level
 * of a jest test file (or vitest's, with `globals: true`) with a factory of fresh, empty stores;
 * see docs/writing-a-store.md. `nestjs-messente-dlr`'s own stores run through it.
 */
export function describeDlrStoreContract(name: string, options: DlrStoreContractOptions): void {
  const runner = testRunnerGlobals();
  const { describe, beforeEach, afterEach } = runner;
  describe(name, () => {
    let current: DlrStore | undefined;
    const context: ContractContext = {
      ...runner,
      store: () => current!,
      T: Date.now() - 3_600_000,
      LONG: 3_600_000,
      timeoutMs: options.timeoutMs,
    };
    beforeEach(async () => void (current = await options.create()), options.timeoutMs);
    afterEach(async () => {
      const store = current;
      current = undefined;
      if (store) await (options.cleanup ? options.cleanup(store) : store.close?.());
    }, options.timeoutMs);
    describeDecisions(context);
    describeLeases(context);
    describeQueries(context);
    describeFeedAndSearch(context);
    describeAccounts(context);
    if (options.tracking) describe('tracking (DlrOutcomeStore)', () => describeTracking(context));
    if (options.deliveryStats) {
      describe('delivery analytics (DlrDeliveryStatsStore)', () => describeDeliveryStats(context));
    }
  });
}

function describeDecisions({ it: test, expect, store, T, LONG, timeoutMs }: ContractContext): void {
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);

  it('records a first report as a change without previous status', async () => {
    const raw = dlr('m1', 'ACCEPTD', { price_info: { part_price: '0.05' } });
    const result = await store().record(raw, T, LONG);
    const report = { messageId: 'm1', status: 'ACCEPTD', raw, receivedAt: T, previousStatus: null };
    expect(result).toEqual({ outcome: 'change', report });
    expect(await store().latest('m1')).toEqual(report);
  });

  it('records higher and equal precedence as changes with the previous status', async () => {
    await store().record(dlr('m1', 'ACCEPTD'), T, LONG);
    const delivered = await store().record(dlr('m1', 'DELIVRD'), T + 1, LONG);
    expect(delivered.outcome).toBe('change');
    expect(delivered.report?.previousStatus).toBe('ACCEPTD');
    const failed = await store().record(dlr('m1', 'FAILED'), T + 2, LONG);
    expect(failed.outcome).toBe('change');
    expect(failed.report?.previousStatus).toBe('DELIVRD');
    expect((await store().latest('m1'))?.raw['status']).toBe('FAILED');
  });

  it('keeps a lower-precedence report in history only, as stale', async () => {
    await store().record(dlr('m1', 'DELIVRD'), T, 1000);
    expect(await store().record(dlr('m1', 'ACK'), T + 1, 1000)).toEqual({ outcome: 'stale', report: null });
    expect((await store().latest('m1'))?.raw['status']).toBe('DELIVRD');
    const history = await store().history('m1');
    expect(ids(history)).toEqual(['m1/DELIVRD', 'm1/ACK']);
    expect(history[1]).toMatchObject({ receivedAt: T + 1, previousStatus: 'DELIVRD' });
    expect(await store().claimPending(10, LONG)).toHaveLength(1);
  });

  it('answers duplicate for a report seen before, a stale one included', async () => {
    await store().record(dlr('m1', 'DELIVRD'), T, LONG);
    await store().record(dlr('m1', 'ACCEPTD'), T + 1, LONG);
    expect(await store().record(dlr('m1', 'DELIVRD'), T + 2, LONG)).toEqual({
      outcome: 'duplicate',
      report: null,
    });
    expect(await store().record(dlr('m1', 'ACCEPTD'), T + 3, LONG)).toEqual({
      outcome: 'duplicate',
      report: null,
    });
    expect(await store().history('m1')).toHaveLength(2);
  });

  it('accepts exactly one of 50 concurrent copies of a report', async () => {
    const raw = dlr('m1', 'DELIVRD');
    const results = await Promise.all(Array.from({ length: 50 }, () => store().record(raw, T, LONG)));
    const outcomes = results.map((result) => result.outcome);
    expect(outcomes.filter((outcome) => outcome === 'change')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(49);
    expect(await store().history('m1')).toHaveLength(1);
  });

  it('ranks an unknown status with UNKNOWN (2)', async () => {
    await store().record(dlr('m1', 'SOMETHING_NEW'), T, LONG);
    expect((await store().record(dlr('m1', 'ACK'), T + 1, LONG)).outcome).toBe('stale');
    expect((await store().record(dlr('m1', 'UNKNOWN'), T + 2, LONG)).outcome).toBe('change');
    expect((await store().record(dlr('m1', 'OTHER_NEW'), T + 3, LONG)).outcome).toBe('change');
    expect((await store().record(dlr('m1', 'DELIVRD'), T + 4, LONG)).outcome).toBe('change');
    expect((await store().record(dlr('m1', 'YET_ANOTHER'), T + 5, LONG)).outcome).toBe('stale');
  });

  it('treats __proto__ and constructor as plain ids, statuses and keys', async () => {
    const raw = JSON.parse(
      '{"message_id":"__proto__","status":"constructor","omnimessage_id":"__proto__","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    ) as Record<string, unknown>;
    expect((await store().record(raw, T, LONG)).outcome).toBe('change');
    expect((await store().record(dlr('__proto__', '__proto__'), T + 1, LONG)).outcome).toBe('change');
    expect((await store().record(dlr('__proto__', 'constructor'), T + 2, LONG)).outcome).toBe('duplicate');
    expect((await store().record(dlr('constructor', 'toString'), T + 3, LONG)).outcome).toBe('change');
    const first = (await store().history('__proto__'))[0]!;
    expect(JSON.stringify(first.raw)).toBe(JSON.stringify(raw));
    expect(Object.getPrototypeOf(first.raw)).toBe(Object.prototype);
    expect(Object.hasOwn(first.raw, '__proto__')).toBe(true);
    expect(ids(await store().forOmnimessage('__proto__'))).toEqual(['__proto__/__proto__']);
    expect((await store().latest('constructor'))?.raw['status']).toBe('toString');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await store().latest('toString')).toBeNull();
  });
}

function describeLeases({ it: test, expect, store, T, LONG, timeoutMs }: ContractContext): void {
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);

  it('redelivers a pending change once its lease has run out, and re-leases it', async () => {
    const first = await store().record(dlr('m1', 'ACCEPTD'), T, 100);
    await store().record(dlr('m1', 'DELIVRD'), T + 1, 100);
    expect((await store().record(dlr('m1', 'ACCEPTD'), T + 99, 100)).outcome).toBe('duplicate');
    expect(await store().record(dlr('m1', 'ACCEPTD'), T + 100, 100)).toEqual({
      outcome: 'redelivery',
      report: first.report,
    });
    expect((await store().record(dlr('m1', 'ACCEPTD'), T + 199, 100)).outcome).toBe('duplicate');
    expect((await store().record(dlr('m1', 'ACCEPTD'), T + 200, 100)).outcome).toBe('redelivery');
  });

  it('redelivers a released change at once, and never a completed one', async () => {
    await store().record(dlr('m1', 'DELIVRD'), T, LONG);
    expect((await store().record(dlr('m1', 'DELIVRD'), T + 1, LONG)).outcome).toBe('duplicate');
    await store().release({ messageId: 'm1', status: 'DELIVRD' });
    // Released now: a copy arriving from now on runs the handlers again.
    expect((await store().record(dlr('m1', 'DELIVRD'), Date.now(), LONG)).outcome).toBe('redelivery');
    await store().complete({ messageId: 'm1', status: 'DELIVRD' });
    await store().release({ messageId: 'm1', status: 'DELIVRD' });
    expect((await store().record(dlr('m1', 'DELIVRD'), T + LONG * 2, LONG)).outcome).toBe('duplicate');
    expect(await store().claimPending(10, LONG)).toEqual([]);
  });

  it('claims pending changes whose lease ran out, oldest first, up to the limit', async () => {
    const now = Date.now();
    await store().record(dlr('a', 'ACCEPTD'), T, 1000);
    await store().record(dlr('leased', 'ACCEPTD'), now, LONG);
    await store().record(dlr('b', 'ACCEPTD'), T + 1, 1000);
    await store().record(dlr('c', 'ACCEPTD'), T + 2, 1000);
    await store().record(dlr('done', 'ACCEPTD'), T + 3, 1000);
    await store().complete({ messageId: 'done', status: 'ACCEPTD' });
    expect(ids(await store().claimPending(2, LONG))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
    expect(ids(await store().claimPending(10, LONG))).toEqual(['c/ACCEPTD']);
    expect(await store().claimPending(10, LONG)).toEqual([]);
    await store().release({ messageId: 'b', status: 'ACCEPTD' });
    expect(await store().claimPending(10, LONG)).toEqual([
      {
        messageId: 'b',
        status: 'ACCEPTD',
        raw: dlr('b', 'ACCEPTD'),
        receivedAt: T + 1,
        previousStatus: null,
      },
    ]);
  });

  it('counts and lists pending changes, leased or not, without leasing them', async () => {
    expect(await store().countPending()).toBe(0);
    expect(await store().listPending(10)).toEqual([]);
    await store().record(dlr('a', 'ACCEPTD'), T, 1000);
    await store().record(dlr('b', 'ACCEPTD'), T + 1, 1000);
    await store().record(dlr('c', 'ACCEPTD'), Date.now(), LONG);
    await store().record(dlr('a', 'ACCEPTD'), T + 2, 1000); // duplicate: no second entry
    await store().record(dlr('done', 'ACCEPTD'), T + 3, 1000);
    await store().complete({ messageId: 'done', status: 'ACCEPTD' });
    expect(await store().countPending()).toBe(3);
    expect(ids(await store().listPending(2))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
    expect(ids(await store().listPending(10)).sort()).toEqual(['a/ACCEPTD', 'b/ACCEPTD', 'c/ACCEPTD']);
    expect(await store().listPending(0)).toEqual([]);
    // Listing leased nothing: both expired changes are still claimable.
    expect(ids(await store().claimPending(10, LONG))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
    expect(await store().countPending()).toBe(3);
  });

  it('keeps apart pending changes whose id and status differ only where a NUL falls', async () => {
    await store().record(dlr('a\u0000b', 'DELIVRD'), T, 1000);
    await store().record(dlr('a', 'b\u0000DELIVRD'), T + 1, 1000);
    expect(await store().countPending()).toBe(2);
    await store().complete({ messageId: 'a', status: 'b\u0000DELIVRD' });
    expect(await store().claimPending(10, LONG)).toEqual([
      {
        messageId: 'a\u0000b',
        status: 'DELIVRD',
        raw: dlr('a\u0000b', 'DELIVRD'),
        receivedAt: T,
        previousStatus: null,
      },
    ]);
    await store().release({ messageId: 'a\u0000b', status: 'DELIVRD' });
    expect((await store().record(dlr('a\u0000b', 'DELIVRD'), Date.now(), LONG)).outcome).toBe('redelivery');
  });
}

function describeQueries({ it: test, expect, store, T, LONG, timeoutMs }: ContractContext): void {
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);

  it('answers latest, history and forOmnimessage, and nothing for unknown ids', async () => {
    await store().record(dlr('m1', 'ACCEPTD'), T, LONG);
    await store().record(dlr('m2', 'ACCEPTD'), T + 1, LONG);
    await store().record(dlr('m1', 'DELIVRD'), T + 2, LONG);
    await store().record(dlr('m3', 'ACCEPTD', { omnimessage_id: 'omni-2' }), T + 3, LONG);
    await store().record({ message_id: 'm4', status: 'ACCEPTD' }, T + 4, LONG);
    expect(ids(await store().forOmnimessage('omni-1'))).toEqual(['m1/DELIVRD', 'm2/ACCEPTD']);
    expect(ids(await store().forOmnimessage('omni-2'))).toEqual(['m3/ACCEPTD']);
    expect(ids(await store().history('m1'))).toEqual(['m1/ACCEPTD', 'm1/DELIVRD']);
    expect(await store().latest('m1')).toEqual({
      messageId: 'm1',
      status: 'DELIVRD',
      raw: dlr('m1', 'DELIVRD'),
      receivedAt: T + 2,
      previousStatus: 'ACCEPTD',
    });
    expect(await store().latest('nope')).toBeNull();
    expect(await store().history('nope')).toEqual([]);
    expect(await store().forOmnimessage('nope')).toEqual([]);
  });

  it('lists unsettled messages: latest change not final and older than `before`', async () => {
    await store().record(dlr('m1', 'ACCEPTD'), T + 1, LONG);
    await store().record(dlr('m2', 'DELIVRD'), T + 2, LONG);
    await store().record(dlr('m3', 'SOMETHING_NEW'), T + 3, LONG);
    await store().record(dlr('m4', 'ACK'), T + 10, LONG);
    expect(ids(await store().unsettled(T + 5, 10))).toEqual(['m1/ACCEPTD', 'm3/SOMETHING_NEW']);
    expect(ids(await store().unsettled(T + 5, 1))).toEqual(['m1/ACCEPTD']);
    await store().record(dlr('m1', 'UNDELIV'), T + 6, LONG);
    await store().record(dlr('m3', 'ACK'), T + 7, LONG);
    expect(ids(await store().unsettled(T + 100, 10))).toEqual(['m3/SOMETHING_NEW', 'm4/ACK']);
  });

  it('gives every report it answers the messageId and status of its body', async () => {
    const recorded = await store().record(dlr('m0', 'ACCEPTD'), T, 1000);
    expect(recorded.report).toMatchObject({ messageId: 'm0', status: 'ACCEPTD' });
    await store().record(dlr('m1', 'ACCEPTD'), T + 1, 1000);
    await store().record(dlr('m1', 'DELIVRD'), T + 2, 1000);
    await store().record(dlr('m1', 'ACK'), T + 3, 1000); // stale: in history only
    const answers: StoredReport[] = [
      ...(await store().history('m1')),
      ...(await store().history('m0')),
      ...(await store().forOmnimessage('omni-1')),
      ...(await store().unsettled(T + 100, 10)),
      ...(await store().listPending(10)),
      ...(await store().recent(10)),
      ...(await store().claimPending(10, LONG)),
    ];
    // history 3 + 1, omnimessage 2, unsettled 1 (m0), pending 3, listed, in the feed, claimed.
    expect(answers).toHaveLength(16);
    for (const report of answers) {
      expect([report.messageId, report.status]).toEqual([
        String(report.raw['message_id']),
        String(report.raw['status']),
      ]);
    }
  });
}

import { setTimeout as delay } from 'node:timers/promises';
import type { DeliveryTally } from '../../lib/interfaces/delivery-stats.interface.js';
import type { StoredReport } from '../../lib/interfaces/dlr-store.interface.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import { DeliveryLedger } from '../../lib/telemetry/delivery-ledger.js';
import { dlrPayload } from '../../lib/testing/index.js';

/** A stored report of `status` for message `id`, as the store would answer it. */
function reportOf(id: string, status: string, timestamp: string): StoredReport {
  const raw = dlrPayload({ message_id: id, status, timestamp, to: '+37255512345', channel: 'viber' });
  return { messageId: id, status, raw, receivedAt: Date.now(), previousStatus: null };
}

/** An in-memory store whose tally calls are slow, counting how many run at once. */
function slowStore() {
  const store = new InMemoryDlrStore();
  const calls: DeliveryTally[][] = [];
  let running = 0;
  let most = 0;
  const tallyDelivery = store.tallyDelivery.bind(store);
  store.tallyDelivery = async (tallies) => {
    calls.push([...tallies]);
    running++;
    most = Math.max(most, running);
    await delay(20);
    running--;
    return tallyDelivery(tallies);
  };
  return { store, calls, most: () => most };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check() && Date.now() < deadline) await delay(5);
}

describe('DeliveryLedger', () => {
  it('is null for a store without delivery analytics', () => {
    const store = new InMemoryDlrStore();
    const bare = Object.assign(Object.create(store) as InMemoryDlrStore, {
      tallyDelivery: undefined,
      deliveryBuckets: undefined,
    });
    expect(DeliveryLedger.of(bare, () => undefined)).toBeNull();
    expect(DeliveryLedger.of(store, () => undefined)).not.toBeNull();
  });

  it('writes one call at a time, each taking every step queued meanwhile, and measures each delivery once', async () => {
    const { store, calls, most } = slowStore();
    const measured: [number, string, string][] = [];
    const ledger = DeliveryLedger.of(store, (...args) => measured.push(args))!;
    const ids = Array.from({ length: 30 }, () => crypto.randomUUID());
    // ACK at 08:00:00, DELIVRD 12 s later, arriving over several turns while calls are slow.
    for (const [index, id] of ids.entries()) {
      ledger.reportChanged(reportOf(id, 'ACK', '2026-12-04T08:00:00.000000'));
      if (index % 5 === 0) await delay(7);
    }
    for (const id of ids) ledger.reportChanged(reportOf(id, 'DELIVRD', '2026-12-04T08:00:12.000000'));
    await until(() => measured.length === ids.length);

    expect(most()).toBe(1);
    expect(calls.flat()).toHaveLength(ids.length * 2);
    // Fewer calls than turns: steps that waited went together.
    expect(calls.length).toBeLessThan(8);
    expect(measured).toHaveLength(ids.length);
    expect(new Set(measured.map((entry) => entry.join('/')))).toEqual(new Set(['12/viber/EE']));
  });

  it('a final report first heard of ends the message without a duration', async () => {
    const { store, calls } = slowStore();
    const measured: number[] = [];
    const ledger = DeliveryLedger.of(store, (seconds) => measured.push(seconds))!;
    ledger.reportChanged(reportOf(crypto.randomUUID(), 'DELIVRD', '2026-12-04T08:00:12.000000'));
    await until(() => calls.length === 1);
    await delay(40);
    expect(calls[0]!.map((tally) => tally.step)).toEqual(['delivered']);
    expect(measured).toEqual([]);
  });

  it('keeps counting after a failing call, and logs it', async () => {
    const store = new InMemoryDlrStore();
    const tallyDelivery = store.tallyDelivery.bind(store);
    let fail = true;
    store.tallyDelivery = (tallies) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('store down'));
      }
      return tallyDelivery(tallies);
    };
    const measured: number[] = [];
    const ledger = DeliveryLedger.of(store, (seconds) => measured.push(seconds))!;
    const lost = crypto.randomUUID();
    ledger.reportChanged(reportOf(lost, 'ACK', '2026-12-04T08:00:00.000000'));
    await delay(20);
    const kept = crypto.randomUUID();
    ledger.reportChanged(reportOf(kept, 'ACK', '2026-12-04T08:00:00.000000'));
    ledger.reportChanged(reportOf(kept, 'DELIVRD', '2026-12-04T08:00:03.000000'));
    await until(() => measured.length === 1);
    expect(measured).toEqual([3]);
  });
});

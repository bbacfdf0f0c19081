import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import { DeliveryStatusChanged } from '../../lib/events/delivery-status-changed.event.js';
import { dlrPayload } from '../../lib/testing/index.js';

describe('InMemoryDlrStore keeps the account of a report', () => {
  it('returns it wherever it returns the report', async () => {
    const store = new InMemoryDlrStore();
    const raw = dlrPayload({ status: 'ACK' });
    const { report } = await store.record(raw, Date.now(), 60_000, 'shop-ee');
    expect(report?.account).toBe('shop-ee');
    const id = raw['message_id'] as string;
    expect((await store.latest(id))?.account).toBe('shop-ee');
    expect((await store.history(id)).map((r) => r.account)).toEqual(['shop-ee']);
    expect((await store.forOmnimessage(raw['omnimessage_id'] as string))[0]?.account).toBe('shop-ee');
    expect((await store.recent(10))[0]?.account).toBe('shop-ee');
    expect((await store.listPending(10))[0]?.account).toBe('shop-ee');
    expect((await store.unsettled(Date.now() + 1, 10))[0]?.account).toBe('shop-ee');
    expect((await store.claimPending(10, 60_000, Date.now() + 60_001))[0]?.account).toBe('shop-ee');
    expect(new DeliveryStatusChanged(report!).account).toBe('shop-ee');
  });

  it('leaves the field out without an account, and the event says null', async () => {
    const store = new InMemoryDlrStore();
    const { report } = await store.record(dlrPayload(), Date.now(), 60_000);
    expect(report).not.toHaveProperty('account');
    expect(new DeliveryStatusChanged(report!).account).toBeNull();
  });
});

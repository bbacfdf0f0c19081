// This file is quoted in docs/writing-a-store.md: keep the two in step.
import { InMemoryDlrStore, type RecordResult } from 'nestjs-messente-dlr';
import { describeDlrStoreContract } from 'nestjs-messente-dlr/testing';

// A store of your own. This one wraps the in-memory store and keeps a log of its decisions;
// yours would talk to DynamoDB, MongoDB, … and implement every method of DlrStore.
class LoggingDlrStore extends InMemoryDlrStore {
  readonly decisions: string[] = [];

  override async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
    account?: string,
  ): Promise<RecordResult> {
    const result = await super.record(raw, receivedAt, leaseMs, account);
    this.decisions.push(`${String(raw['message_id'])} ${result.outcome}`);
    return result;
  }
}

describeDlrStoreContract('LoggingDlrStore', {
  // A fresh, empty store for each test.
  create: () => new LoggingDlrStore(),
  // Optional: what to do with it after the test (default: store.close?.()).
  cleanup: (store) => store.close?.(),
  // Optional: a remote database may need more than the runner's default per test.
  timeoutMs: 30_000,
});

describe('LoggingDlrStore', () => {
  it('logs each decision', async () => {
    const store = new LoggingDlrStore();
    await store.record({ message_id: 'm1', status: 'DELIVRD' }, Date.now(), 60_000);
    await store.record({ message_id: 'm1', status: 'DELIVRD' }, Date.now(), 60_000);
    expect(store.decisions).toEqual(['m1 change', 'm1 duplicate']);
  });
});

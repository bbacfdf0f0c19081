import { type ContractContext, dlr } from './dlr-store-contract.context.js';

/**
 * Accounts in the contract: the account given to `record()` (module option `accounts`) is kept
 * with the report and comes back wherever the store returns it; a report recorded without one
 * has none.
 */
export function describeAccounts({ it: test, expect, store, T, LONG, timeoutMs }: ContractContext): void {
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);

  it('keeps the account given to record() with the report, wherever it returns it', async () => {
    const first = await store().record(dlr('acc-1', 'ACCEPTD'), T, LONG, 'shop-ee');
    expect(first.report?.account).toBe('shop-ee');
    await store().record(dlr('acc-1', 'DELIVRD'), T + 1, LONG, 'shop-ee');
    await store().record(dlr('acc-1', 'ACK'), T + 2, LONG, 'shop-ee');
    expect((await store().latest('acc-1'))?.account).toBe('shop-ee');
    expect((await store().history('acc-1')).map((report) => report.account)).toEqual([
      'shop-ee',
      'shop-ee',
      'shop-ee',
    ]);
    expect((await store().forOmnimessage('omni-1')).map((report) => report.account)).toEqual(['shop-ee']);
    expect((await store().recent(10)).map((report) => report.account)).toEqual(['shop-ee', 'shop-ee']);
    expect((await store().listPending(10)).map((report) => report.account)).toEqual(['shop-ee', 'shop-ee']);
    expect((await store().claimPending(10, LONG)).map((report) => report.account)).toEqual([
      'shop-ee',
      'shop-ee',
    ]);
  });

  it('keeps each report its own account, and none for a report recorded without one', async () => {
    await store().record(dlr('acc-2', 'ACCEPTD'), T, LONG, 'shop-lv');
    const plain = await store().record(dlr('acc-3', 'ACCEPTD'), T + 1, LONG);
    expect(plain.report?.account ?? null).toBeNull();
    expect((await store().latest('acc-2'))?.account).toBe('shop-lv');
    expect((await store().latest('acc-3'))?.account ?? null).toBeNull();
  });
}

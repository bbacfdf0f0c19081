import type { DlrStore } from '../../lib/interfaces/dlr-store.interface.js';

/** A lease long enough not to end during a test. */
const LONG = 3_600_000;

/** A raw report of `messageId` with `status`, and an omnimessage id derived from it. */
export function dlr(messageId: string, status = 'DELIVRD'): Record<string, unknown> {
  return { message_id: messageId, status, omnimessage_id: `omni-${messageId}` };
}

/**
 * Records 500 reports on every store at once (stores sharing one backend) and asserts that each
 * report is one change in total and a duplicate everywhere else.
 */
export async function expectOneChangePerReport(stores: readonly DlrStore[]): Promise<void> {
  const receivedAt = Date.now();
  const reports = Array.from({ length: 500 }, (_, i) => dlr(`twin-${i}`));
  const results = await Promise.all(
    reports.flatMap((raw) => stores.map((dlrStore) => dlrStore.record(raw, receivedAt, LONG))),
  );
  const changes = results.filter((result) => result.outcome === 'change');
  expect(changes).toHaveLength(500);
  expect(new Set(changes.map((change) => change.report?.raw['message_id'])).size).toBe(500);
  expect(results.filter((result) => result.outcome === 'duplicate')).toHaveLength(500);
}

/**
 * Has two stores sharing one backend claim 200 pending reports (already recorded, their leases
 * over) in 40 concurrent batches of 10, and asserts that none is claimed twice.
 */
export async function expectExclusiveClaims(stores: readonly DlrStore[]): Promise<void> {
  const batches = await Promise.all(
    Array.from({ length: 40 }, (_, i) => stores[i % 2]!.claimPending(10, LONG)),
  );
  const claimed = batches.flat().map((report) => report.raw['message_id']);
  expect(claimed).toHaveLength(200);
  expect(new Set(claimed).size).toBe(200);
}

import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import { ChangeModel, type ModelOutcome } from '../support/change-model.js';

type Row = [string, string[], ModelOutcome[], string | null];

// Each row: the statuses of one message in arrival order, what each must be, and the
// previousStatus of the last change.
const TABLE: Row[] = [
  ['first report is a change', ['ACCEPTD'], ['change'], null],
  ['higher precedence is a change', ['ACCEPTD', 'DELIVRD'], ['change', 'change'], 'ACCEPTD'],
  ['same rank, other status, is a change', ['ACCEPTD', 'ACK'], ['change', 'change'], 'ACCEPTD'],
  ['final to another final of rank 3 is a change', ['DELIVRD', 'FAILED'], ['change', 'change'], 'DELIVRD'],
  ['SEEN after DELIVRD', ['DELIVRD', 'SEEN'], ['change', 'change'], 'DELIVRD'],
  ['lower precedence is stale', ['DELIVRD', 'ACCEPTD'], ['change', 'stale'], null],
  ['UNKNOWN after DELIVRD is stale', ['DELIVRD', 'UNKNOWN'], ['change', 'stale'], null],
  ['anything after SEEN is stale', ['SEEN', 'DELIVRD', 'ACK'], ['change', 'stale', 'stale'], null],
  ['exact duplicate', ['DELIVRD', 'DELIVRD'], ['change', 'duplicate'], null],
  ['duplicate of a stale report', ['DELIVRD', 'ACK', 'ACK'], ['change', 'stale', 'duplicate'], null],
  [
    'a status seen before is a duplicate even after others',
    ['ACCEPTD', 'DELIVRD', 'ACCEPTD'],
    ['change', 'change', 'duplicate'],
    'ACCEPTD',
  ],
  [
    'undocumented status ranks with UNKNOWN',
    ['ACK', 'NEW_STATUS', 'UNKNOWN'],
    ['change', 'change', 'change'],
    'NEW_STATUS',
  ],
  ['undocumented status after a final is stale', ['FAILED', 'NEW_STATUS'], ['change', 'stale'], null],
  [
    'out of order: final first',
    ['DELIVRD', 'ACK', 'ACCEPTD', 'SEEN'],
    ['change', 'stale', 'stale', 'change'],
    'DELIVRD',
  ],
];

describe('change semantics (SPEC precedence table)', () => {
  it.each(TABLE)('%s', async (_name, statuses, expected, lastPrevious) => {
    const store = new InMemoryDlrStore();
    const model = new ChangeModel();
    const outcomes: string[] = [];
    let previous: string | null | undefined;
    for (const status of statuses) {
      const result = await store.record({ message_id: 'm', status }, Date.now(), 60_000);
      outcomes.push(result.outcome);
      if (result.outcome === 'change') previous = result.report!.previousStatus;
    }
    expect(outcomes).toEqual(expected);
    expect(statuses.map((status) => model.apply('m', status))).toEqual(expected);
    if (lastPrevious !== null) expect(previous).toBe(lastPrevious);
  });

  it('keeps the latest change and every report in history', async () => {
    const store = new InMemoryDlrStore();
    for (const status of ['ACCEPTD', 'DELIVRD', 'ACK']) await store.record({ message_id: 'm', status }, 1, 1);
    expect((await store.latest('m'))?.raw['status']).toBe('DELIVRD');
    expect((await store.history('m')).map((report) => report.raw['status'])).toEqual([
      'ACCEPTD',
      'DELIVRD',
      'ACK',
    ]);
  });

  it('evicts the oldest messages past maxMessages but keeps their pending changes', async () => {
    const store = new InMemoryDlrStore({ maxMessages: 10, maxPending: 100 });
    for (let i = 0; i < 25; i++)
      await store.record({ message_id: `m${i}`, status: 'DELIVRD', omnimessage_id: 'o' }, 1, 0);
    expect(store.size).toBe(10);
    expect(await store.latest('m0')).toBeNull();
    expect(await store.latest('m24')).not.toBeNull();
    expect(await store.forOmnimessage('o')).toHaveLength(10);
    expect(await store.claimPending(100, 60_000)).toHaveLength(25);
  });

  it('bounds pending changes at maxPending, dropping the oldest', async () => {
    const store = new InMemoryDlrStore({ maxMessages: 100, maxPending: 3 });
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      for (let i = 0; i < 5; i++) await store.record({ message_id: `p${i}`, status: 'FAILED' }, 1, 0);
      const left = await store.claimPending(10, 60_000);
      expect(left.map((report) => report.raw['message_id'])).toEqual(['p2', 'p3', 'p4']);
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
    }
  });
});

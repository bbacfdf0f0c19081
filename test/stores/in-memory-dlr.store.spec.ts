import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { KNOWN_STATUSES } from '../../lib/dlr-status.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import type { OmnimessageIndex } from '../../lib/stores/omnimessage-index.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const T = Date.now() - 3_600_000;
const LONG = 3_600_000;

function dlr(messageId: string, status: string, omnimessageId = 'omni-1'): Record<string, unknown> {
  return { message_id: messageId, status, omnimessage_id: omnimessageId };
}

/** The statuses one message remembers for deduplication (white box: the bound is the point). */
function remembered(store: InMemoryDlrStore, messageId: string): { unknown: number } {
  const messages = (store as unknown as { messages: { peek(id: string): { unknownSeen: string[] | null } } })
    .messages;
  return { unknown: messages.peek(messageId).unknownSeen?.length ?? 0 };
}

/** How many omnimessages the index holds (white box: an evicted omnimessage must leave nothing). */
function indexed(store: InMemoryDlrStore): number {
  return (store as unknown as { omnimessages: OmnimessageIndex }).omnimessages.size;
}

async function outcome(store: InMemoryDlrStore, raw: Record<string, unknown>): Promise<string> {
  return (await store.record(raw, T, LONG)).outcome;
}

describe('InMemoryDlrStore', () => {
  describe('statuses remembered per message', () => {
    it('keeps at most maxHistory invented statuses, and every documented one', async () => {
      const store = new InMemoryDlrStore({ maxHistory: 4 });
      expect(await outcome(store, dlr('m', 'ACCEPTD'))).toBe('change');
      for (let i = 0; i < 1_000; i++) expect(await outcome(store, dlr('m', `INVENTED_${i}`))).toBe('change');
      expect(remembered(store, 'm').unknown).toBe(4);
      expect(await store.history('m')).toHaveLength(4);
      expect(await outcome(store, dlr('m', 'DELIVRD'))).toBe('change');

      // Documented statuses are never forgotten: still duplicates after 1 000 invented ones.
      expect(await outcome(store, dlr('m', 'ACCEPTD'))).toBe('duplicate');
      expect(await outcome(store, dlr('m', 'DELIVRD'))).toBe('duplicate');
      // The last maxHistory invented ones are duplicates too...
      for (let i = 996; i < 1_000; i++)
        expect(await outcome(store, dlr('m', `INVENTED_${i}`))).toBe('duplicate');
      // ...an older one is decided again: stale here, below DELIVRD's precedence.
      expect(await outcome(store, dlr('m', 'INVENTED_0'))).toBe('stale');
      expect(remembered(store, 'm').unknown).toBe(4);
    });

    it('recognises a duplicate of each of the eleven documented statuses', async () => {
      const store = new InMemoryDlrStore({ maxHistory: 1 });
      for (const status of KNOWN_STATUSES)
        expect(await outcome(store, dlr('k', status))).not.toBe('duplicate');
      for (let i = 0; i < 50; i++) await outcome(store, dlr('k', `NEW_${i}`));
      for (const status of KNOWN_STATUSES) expect(await outcome(store, dlr('k', status))).toBe('duplicate');
      expect(remembered(store, 'k').unknown).toBe(1);
    });
  });

  describe('the feed and the search forget with the messages', () => {
    it('lists and finds only messages the store still holds', async () => {
      const store = new InMemoryDlrStore({ maxMessages: 2 });
      await store.record({ ...dlr('first-0000', 'ACCEPTD'), to: '+3725550' }, T, LONG);
      await store.record(dlr('first-0000', 'DELIVRD'), T + 1, LONG);
      await store.record(dlr('second-0000', 'DELIVRD'), T + 2, LONG);
      await store.record(dlr('third-0000', 'DELIVRD'), T + 3, LONG);
      const recent = (await store.recent(500)).map((report) => report.raw['message_id']);
      expect(recent).toEqual(['third-0000', 'second-0000']);
      expect(await store.search('first-0000', 50)).toEqual([]);
      expect(await store.search('+3725550', 50)).toEqual([]);
      expect(await store.search('omni-1', 50)).toEqual(['third-0000', 'second-0000']);
      // Reported again once evicted: a new message, whose earlier changes are not in the feed.
      await store.record(dlr('first-0000', 'FAILED'), T + 4, LONG);
      expect((await store.recent(500)).map((report) => report.raw['status'])).toEqual(['FAILED', 'DELIVRD']);
    });
  });

  describe('omnimessage index', () => {
    it('indexes and evicts one omnimessage of 20 000 messages', async () => {
      const store = new InMemoryDlrStore({ maxMessages: 10_000, maxPending: 100_000 });
      for (let i = 0; i < 20_000; i++) await store.record(dlr(`big-${i}`, 'DELIVRD', 'big'), T, LONG);
      // The 10 000 least recently reported were evicted, and left the index.
      const kept = (await store.forOmnimessage('big')).map((report) => report.raw['message_id']);
      expect(kept).toHaveLength(10_000);
      expect(new Set(kept)).toEqual(new Set(Array.from({ length: 10_000 }, (_, i) => `big-${10_000 + i}`)));

      // A message evicted and reported again is indexed again, once.
      await store.record(dlr('big-0', 'SEEN', 'big'), T, LONG);
      const again = (await store.forOmnimessage('big')).map((report) => report.raw['message_id']);
      expect(again).toHaveLength(10_000);
      expect(again).toContain('big-0');
      expect(again).not.toContain('big-10000');

      // Other traffic evicts the rest: the omnimessage leaves the index entirely.
      for (let i = 0; i < 10_000; i++) await store.record(dlr(`other-${i}`, 'DELIVRD', `omni-${i}`), T, LONG);
      expect(await store.forOmnimessage('big')).toEqual([]);
      expect(indexed(store)).toBe(10_000);
    });

    it('lists messages in the order they first changed, also when the index is built on first use', async () => {
      const store = new InMemoryDlrStore();
      for (const id of ['c', 'a', 'b']) await store.record(dlr(id, 'ACCEPTD', 'x'), T, LONG);
      // A later report makes 'c' the most recently used message; the order stays that of filing.
      await store.record(dlr('c', 'DELIVRD', 'x'), T, LONG);
      expect(indexed(store)).toBe(0);
      const ids = async () => (await store.forOmnimessage('x')).map((report) => report.raw['message_id']);
      expect(await ids()).toEqual(['c', 'a', 'b']);
      // Kept from then on: a new message is filed last.
      await store.record(dlr('d', 'ACCEPTD', 'x'), T, LONG);
      expect(await ids()).toEqual(['c', 'a', 'b', 'd']);
      expect(indexed(store)).toBe(1);
    });

    it('keeps each omnimessage exact as it grows past a short list and shrinks back', async () => {
      const store = new InMemoryDlrStore({ maxMessages: 3 });
      const ofOmni = async (id: string) =>
        (await store.forOmnimessage(id)).map((report) => report.raw['message_id']).sort();
      for (const [omni, count] of [
        ['one', 1],
        ['two', 2],
        ['twelve', 12],
      ] as const) {
        const growing = new InMemoryDlrStore();
        for (let i = 0; i < count; i++) await growing.record(dlr(`${omni}-${i}`, 'ACCEPTD', omni), T, LONG);
        // A second report of a message does not index it twice.
        for (let i = 0; i < count; i++) await growing.record(dlr(`${omni}-${i}`, 'DELIVRD', omni), T, LONG);
        expect(await growing.forOmnimessage(omni)).toHaveLength(count);
      }
      // Evictions one by one, from a list of three down to one id and to nothing.
      for (const id of ['a', 'b', 'c']) await store.record(dlr(id, 'DELIVRD', 'x'), T, LONG);
      expect(await ofOmni('x')).toEqual(['a', 'b', 'c']);
      await store.record(dlr('d', 'DELIVRD', 'y'), T, LONG);
      expect(await ofOmni('x')).toEqual(['b', 'c']);
      await store.record(dlr('e', 'DELIVRD', 'y'), T, LONG);
      expect(await ofOmni('x')).toEqual(['c']);
      await store.record(dlr('f', 'DELIVRD', 'y'), T, LONG);
      expect(await ofOmni('x')).toEqual([]);
      expect(await ofOmni('y')).toEqual(['d', 'e', 'f']);
      expect(indexed(store)).toBe(1);
    });
  });

  describe(`pending changes past maxPending (seed ${FUZZ_SEED})`, () => {
    /**
     * New changes (most often, so that the bound is crossed), completions, claims, releases, and
     * a pending change reported again: a duplicate while its message is held, a change filed
     * again in place once the message was evicted.
     */
    const step = fc.oneof(
      { arbitrary: fc.constant({ kind: 'change' as const }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }), weight: 1 },
      { arbitrary: fc.constant({ kind: 'claim' as const }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('repeat' as const), pick: fc.nat() }), weight: 2 },
    );

    it(
      'always drops the oldest, however completions and drops interleave',
      replayable(async () => {
        const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
        let drops = 0;
        let changedAgain = 0;
        try {
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 1, max: 6 }),
              fc.array(step, { maxLength: 80 }),
              async (max, steps) => {
                const store = new InMemoryDlrStore({ maxMessages: 2, maxPending: max });
                // The model: pending message ids, oldest first.
                const model: string[] = [];
                let next = 0;
                for (const action of steps) {
                  if (action.kind === 'change') {
                    const id = `p${next++}`;
                    expect(await outcome(store, dlr(id, 'FAILED'))).toBe('change');
                    model.push(id);
                    if (model.length > max) {
                      model.shift();
                      drops++;
                    }
                  } else if (action.kind === 'complete' && model.length > 0) {
                    const [id] = model.splice(action.pick % model.length, 1);
                    await store.complete({ messageId: id!, status: 'FAILED' });
                  } else if (action.kind === 'claim') {
                    await store.claimPending(max, 0, Infinity);
                  } else if (action.kind === 'release' && model.length > 0) {
                    await store.release({ messageId: model[action.pick % model.length]!, status: 'FAILED' });
                  } else if (action.kind === 'repeat' && model.length > 0) {
                    const id = model[action.pick % model.length]!;
                    const repeated = await outcome(store, dlr(id, 'FAILED'));
                    expect(['change', 'duplicate', 'redelivery']).toContain(repeated);
                    if (repeated === 'change') changedAgain++;
                  }
                  const pending = await store.listPending(100);
                  expect(pending.map((report) => report.raw['message_id'])).toEqual(model);
                }
              },
            ),
            { numRuns: 500, seed: FUZZ_SEED },
          );
        } finally {
          errors.mockRestore();
        }
        // Drops were exercised, not just the bound, and so were changes filed again in place.
        expect(drops).toBeGreaterThan(50);
        expect(changedAgain).toBeGreaterThan(2);
      }),
    );
  });
});

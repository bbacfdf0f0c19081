import { type ContractContext, dlr, ids } from './dlr-store-contract.context.js';

/**
 * The store contract's tests of `recent()` and `search()`, what the board reads: a part of
 * `describeDlrStoreContract`, which registers them.
 */
export function describeFeedAndSearch(context: ContractContext): void {
  const { describe, it: test, expect, store, T, LONG, timeoutMs } = context;
  const it = (name: string, body: () => Promise<void>) => test(name, body, timeoutMs);

  describe('the feed and the search', () => {
    it('lists the latest changes of every message, newest first, no stale reports or duplicates', async () => {
      expect(await store().recent(50)).toEqual([]);
      await store().record(dlr('m1', 'ACCEPTD'), T, 1000);
      await store().record(dlr('m2', 'ACCEPTD'), T + 1, LONG);
      await store().record(dlr('m1', 'DELIVRD'), T + 2, LONG);
      await store().record(dlr('m1', 'ACK'), T + 3, LONG); // stale
      await store().record(dlr('m2', 'ACCEPTD'), T + 4, LONG); // duplicate
      await store().record(dlr('m1', 'ACCEPTD'), T + 5, LONG); // redelivery: not a new change
      await store().complete({ messageId: 'm2', status: 'ACCEPTD' });
      expect(ids(await store().recent(50))).toEqual(['m1/DELIVRD', 'm2/ACCEPTD', 'm1/ACCEPTD']);
      expect(await store().recent(1)).toEqual([
        {
          messageId: 'm1',
          status: 'DELIVRD',
          raw: dlr('m1', 'DELIVRD'),
          receivedAt: T + 2,
          previousStatus: 'ACCEPTD',
        },
      ]);
      expect(await store().recent(0)).toEqual([]);
      expect(await store().recent(-1)).toEqual([]);
      expect(await store().recent(Number.NaN)).toEqual([]);
    });

    it('keeps at most 500 changes for the feed, the newest', async () => {
      for (let i = 0; i < 510; i++) await store().record(dlr(`r${i}`, 'DELIVRD'), T + i, LONG);
      const recent = await store().recent(10_000);
      expect(recent).toHaveLength(500);
      expect(recent[0]?.raw['message_id']).toBe('r509');
      expect(recent[499]?.raw['message_id']).toBe('r10');
    });

    it('finds a message by its id, its omnimessage id, a prefix of 8 characters of either, or its phone', async () => {
      const message = (id: string, status: string, omni: string, to: string) =>
        dlr(id, status, { omnimessage_id: omni, to });
      await store().record(message('5f2a9c1e-aaaa', 'ACCEPTD', 'omni-0001-x', '+3725551'), T, LONG);
      await store().record(message('5f2a9c1e-bbbb', 'ACCEPTD', 'omni-0001-x', '+3725552'), T + 1, LONG);
      await store().record(message('7b000000-cccc', 'ACCEPTD', 'omni-0002-y', '+3725551'), T + 2, LONG);
      // A later change makes -aaaa the newest of the three.
      await store().record(message('5f2a9c1e-aaaa', 'DELIVRD', 'omni-0001-x', '+3725551'), T + 3, LONG);
      expect(await store().search('5f2a9c1e-bbbb', 50)).toEqual(['5f2a9c1e-bbbb']);
      expect(await store().search('5f2a9c1e', 50)).toEqual(['5f2a9c1e-aaaa', '5f2a9c1e-bbbb']);
      expect(await store().search('5f2a9c1e', 1)).toEqual(['5f2a9c1e-aaaa']);
      expect(await store().search('omni-0001-x', 50)).toEqual(['5f2a9c1e-aaaa', '5f2a9c1e-bbbb']);
      expect(await store().search('omni-000', 50)).toEqual([
        '5f2a9c1e-aaaa',
        '7b000000-cccc',
        '5f2a9c1e-bbbb',
      ]);
      expect(await store().search('+3725551', 50)).toEqual(['5f2a9c1e-aaaa', '7b000000-cccc']);
      // Seven characters are not a prefix; nor is part of a phone number; nothing else matches.
      expect(await store().search('5f2a9c1', 50)).toEqual([]);
      expect(await store().search('omni-00', 50)).toEqual([]);
      expect(await store().search('+372555', 50)).toEqual([]);
      expect(await store().search('', 50)).toEqual([]);
      expect(await store().search('5f2a9c1e-aaaa-and-more', 50)).toEqual([]);
      expect(await store().search('5f2a9c1e', 0)).toEqual([]);
    });

    it('finds ids of 255 characters, with NUL, quotes, wildcards and any Unicode, and nothing by wildcard', async () => {
      const long = `${'\u{1F600}'.repeat(100)}${'x'.repeat(55)}`;
      const odd = [
        'a\u0000bcdefg-0000',
        'a\u0000bcdefg-1111',
        '%_\\[*?{}]-id',
        '\u0001"\\u0000"x',
        long,
        'ÄÖü-€-中文-ok',
      ];
      for (const [i, id] of odd.entries()) {
        await store().record(
          dlr(id, 'ACCEPTD', { omnimessage_id: `o\u0000${id}`, to: `+\u0000${i}` }),
          T + i,
          LONG,
        );
      }
      expect(await store().search('a\u0000bcdefg-0000', 50)).toEqual(['a\u0000bcdefg-0000']);
      expect(await store().search('a\u0000bcdefg-', 50)).toEqual([
        'a\u0000bcdefg-1111',
        'a\u0000bcdefg-0000',
      ]);
      expect(await store().search('a\u0000bcdef', 50)).toEqual([]);
      expect(await store().search(long, 50)).toEqual([long]);
      expect(await store().search(long.slice(0, 16), 50)).toEqual([long]);
      expect(await store().search(`o\u0000${long}`, 50)).toEqual([long]);
      expect(await store().search('+\u00003', 50)).toEqual(['\u0001"\\u0000"x']);
      expect(await store().search('%_\\[*?{}]-id', 50)).toEqual(['%_\\[*?{}]-id']);
      expect(await store().search('%_\\[*?{}]', 50)).toEqual(['%_\\[*?{}]-id']);
      expect(await store().search('ÄÖü-€-中文', 50)).toEqual(['ÄÖü-€-中文-ok']);
      // Wildcards of LIKE, glob or regex name nothing but themselves.
      for (const query of ['%%%%%%%%', '________', '.*.*.*.*', '********', '\\\\\\\\\\\\\\\\']) {
        expect(await store().search(query, 50)).toEqual([]);
      }
      expect(await store().recent(1)).toEqual([
        expect.objectContaining({ raw: expect.objectContaining({ message_id: 'ÄÖü-€-中文-ok' }) }),
      ]);
    });
  });
}

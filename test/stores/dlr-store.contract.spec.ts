import fc from 'fast-check';
import type { DlrStore, StoredReport } from '../../lib/interfaces/dlr-store.interface.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';
import { RecordModel } from '../support/change-model.js';
import {
  inMemorySubject,
  postgresSubject,
  redisClusterSubject,
  redisSubject,
} from '../support/store-subjects.js';

const inMemory = inMemorySubject;
const redis = redisSubject('contract');
const redisCluster = redisClusterSubject('contract');
const postgres = postgresSubject('contract');

// Far enough in the past that every lease taken "then" has run out by Date.now().
const T = Date.now() - 3_600_000;
const LONG = 3_600_000;

function dlr(
  messageId: string,
  status: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { message_id: messageId, status, omnimessage_id: 'omni-1', to: '+37200000000', ...extra };
}

function ids(reports: readonly StoredReport[]): string[] {
  return reports.map((report) => `${String(report.raw['message_id'])}/${String(report.raw['status'])}`);
}

describe.each([inMemory, redis, redisCluster, postgres])('DlrStore contract: $name', (subject) => {
  subject.describe(subject.name, () => {
    const stores = subject.setup();
    let store: DlrStore;
    beforeEach(() => (store = stores.create()));
    afterEach(() => store.close?.());

    it('records a first report as a change without previous status', async () => {
      const raw = dlr('m1', 'ACCEPTD', { price_info: { part_price: '0.05' } });
      const result = await store.record(raw, T, LONG);
      expect(result).toEqual({ outcome: 'change', report: { raw, receivedAt: T, previousStatus: null } });
      expect(await store.latest('m1')).toEqual({ raw, receivedAt: T, previousStatus: null });
    });

    it('records higher and equal precedence as changes with the previous status', async () => {
      await store.record(dlr('m1', 'ACCEPTD'), T, LONG);
      const delivered = await store.record(dlr('m1', 'DELIVRD'), T + 1, LONG);
      expect(delivered.outcome).toBe('change');
      expect(delivered.report?.previousStatus).toBe('ACCEPTD');
      const failed = await store.record(dlr('m1', 'FAILED'), T + 2, LONG);
      expect(failed.outcome).toBe('change');
      expect(failed.report?.previousStatus).toBe('DELIVRD');
      expect((await store.latest('m1'))?.raw['status']).toBe('FAILED');
    });

    it('keeps a lower-precedence report in history only, as stale', async () => {
      await store.record(dlr('m1', 'DELIVRD'), T, 1000);
      expect(await store.record(dlr('m1', 'ACK'), T + 1, 1000)).toEqual({ outcome: 'stale', report: null });
      expect((await store.latest('m1'))?.raw['status']).toBe('DELIVRD');
      const history = await store.history('m1');
      expect(ids(history)).toEqual(['m1/DELIVRD', 'm1/ACK']);
      expect(history[1]).toMatchObject({ receivedAt: T + 1, previousStatus: 'DELIVRD' });
      expect(await store.claimPending(10, LONG)).toHaveLength(1);
    });

    it('answers duplicate for a report seen before, a stale one included', async () => {
      await store.record(dlr('m1', 'DELIVRD'), T, LONG);
      await store.record(dlr('m1', 'ACCEPTD'), T + 1, LONG);
      expect(await store.record(dlr('m1', 'DELIVRD'), T + 2, LONG)).toEqual({
        outcome: 'duplicate',
        report: null,
      });
      expect(await store.record(dlr('m1', 'ACCEPTD'), T + 3, LONG)).toEqual({
        outcome: 'duplicate',
        report: null,
      });
      expect(await store.history('m1')).toHaveLength(2);
    });

    it('redelivers a pending change once its lease has run out, and re-leases it', async () => {
      const first = await store.record(dlr('m1', 'ACCEPTD'), T, 100);
      await store.record(dlr('m1', 'DELIVRD'), T + 1, 100);
      expect((await store.record(dlr('m1', 'ACCEPTD'), T + 99, 100)).outcome).toBe('duplicate');
      expect(await store.record(dlr('m1', 'ACCEPTD'), T + 100, 100)).toEqual({
        outcome: 'redelivery',
        report: first.report,
      });
      expect((await store.record(dlr('m1', 'ACCEPTD'), T + 199, 100)).outcome).toBe('duplicate');
      expect((await store.record(dlr('m1', 'ACCEPTD'), T + 200, 100)).outcome).toBe('redelivery');
    });

    it('redelivers a released change at once, and never a completed one', async () => {
      await store.record(dlr('m1', 'DELIVRD'), T, LONG);
      expect((await store.record(dlr('m1', 'DELIVRD'), T + 1, LONG)).outcome).toBe('duplicate');
      await store.release({ messageId: 'm1', status: 'DELIVRD' });
      // Released now: a copy arriving from now on runs the handlers again.
      expect((await store.record(dlr('m1', 'DELIVRD'), Date.now(), LONG)).outcome).toBe('redelivery');
      await store.complete({ messageId: 'm1', status: 'DELIVRD' });
      await store.release({ messageId: 'm1', status: 'DELIVRD' });
      expect((await store.record(dlr('m1', 'DELIVRD'), T + LONG * 2, LONG)).outcome).toBe('duplicate');
      expect(await store.claimPending(10, LONG)).toEqual([]);
    });

    it('claims pending changes whose lease ran out, oldest first, up to the limit', async () => {
      const now = Date.now();
      await store.record(dlr('a', 'ACCEPTD'), T, 1000);
      await store.record(dlr('leased', 'ACCEPTD'), now, LONG);
      await store.record(dlr('b', 'ACCEPTD'), T + 1, 1000);
      await store.record(dlr('c', 'ACCEPTD'), T + 2, 1000);
      await store.record(dlr('done', 'ACCEPTD'), T + 3, 1000);
      await store.complete({ messageId: 'done', status: 'ACCEPTD' });
      expect(ids(await store.claimPending(2, LONG))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
      expect(ids(await store.claimPending(10, LONG))).toEqual(['c/ACCEPTD']);
      expect(await store.claimPending(10, LONG)).toEqual([]);
      await store.release({ messageId: 'b', status: 'ACCEPTD' });
      expect(await store.claimPending(10, LONG)).toEqual([
        { raw: dlr('b', 'ACCEPTD'), receivedAt: T + 1, previousStatus: null },
      ]);
    });

    it('counts and lists pending changes, leased or not, without leasing them', async () => {
      expect(await store.countPending()).toBe(0);
      expect(await store.listPending(10)).toEqual([]);
      await store.record(dlr('a', 'ACCEPTD'), T, 1000);
      await store.record(dlr('b', 'ACCEPTD'), T + 1, 1000);
      await store.record(dlr('c', 'ACCEPTD'), Date.now(), LONG);
      await store.record(dlr('a', 'ACCEPTD'), T + 2, 1000); // duplicate: no second entry
      await store.record(dlr('done', 'ACCEPTD'), T + 3, 1000);
      await store.complete({ messageId: 'done', status: 'ACCEPTD' });
      expect(await store.countPending()).toBe(3);
      expect(ids(await store.listPending(2))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
      expect(ids(await store.listPending(10)).sort()).toEqual(['a/ACCEPTD', 'b/ACCEPTD', 'c/ACCEPTD']);
      expect(await store.listPending(0)).toEqual([]);
      // Listing leased nothing: both expired changes are still claimable.
      expect(ids(await store.claimPending(10, LONG))).toEqual(['a/ACCEPTD', 'b/ACCEPTD']);
      expect(await store.countPending()).toBe(3);
    });

    it('accepts exactly one of 50 concurrent copies of a report', async () => {
      const raw = dlr('m1', 'DELIVRD');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.record(raw, T, LONG)));
      const outcomes = results.map((result) => result.outcome);
      expect(outcomes.filter((outcome) => outcome === 'change')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(49);
      expect(await store.history('m1')).toHaveLength(1);
    });

    it('answers latest, history and forOmnimessage, and nothing for unknown ids', async () => {
      await store.record(dlr('m1', 'ACCEPTD'), T, LONG);
      await store.record(dlr('m2', 'ACCEPTD'), T + 1, LONG);
      await store.record(dlr('m1', 'DELIVRD'), T + 2, LONG);
      await store.record(dlr('m3', 'ACCEPTD', { omnimessage_id: 'omni-2' }), T + 3, LONG);
      await store.record({ message_id: 'm4', status: 'ACCEPTD' }, T + 4, LONG);
      expect(ids(await store.forOmnimessage('omni-1'))).toEqual(['m1/DELIVRD', 'm2/ACCEPTD']);
      expect(ids(await store.forOmnimessage('omni-2'))).toEqual(['m3/ACCEPTD']);
      expect(ids(await store.history('m1'))).toEqual(['m1/ACCEPTD', 'm1/DELIVRD']);
      expect(await store.latest('m1')).toEqual({
        raw: dlr('m1', 'DELIVRD'),
        receivedAt: T + 2,
        previousStatus: 'ACCEPTD',
      });
      expect(await store.latest('nope')).toBeNull();
      expect(await store.history('nope')).toEqual([]);
      expect(await store.forOmnimessage('nope')).toEqual([]);
    });

    it('lists unsettled messages: latest change not final and older than `before`', async () => {
      await store.record(dlr('m1', 'ACCEPTD'), T + 1, LONG);
      await store.record(dlr('m2', 'DELIVRD'), T + 2, LONG);
      await store.record(dlr('m3', 'SOMETHING_NEW'), T + 3, LONG);
      await store.record(dlr('m4', 'ACK'), T + 10, LONG);
      expect(ids(await store.unsettled(T + 5, 10))).toEqual(['m1/ACCEPTD', 'm3/SOMETHING_NEW']);
      expect(ids(await store.unsettled(T + 5, 1))).toEqual(['m1/ACCEPTD']);
      await store.record(dlr('m1', 'UNDELIV'), T + 6, LONG);
      await store.record(dlr('m3', 'ACK'), T + 7, LONG);
      expect(ids(await store.unsettled(T + 100, 10))).toEqual(['m3/SOMETHING_NEW', 'm4/ACK']);
    });

    it('ranks an unknown status with UNKNOWN (2)', async () => {
      await store.record(dlr('m1', 'SOMETHING_NEW'), T, LONG);
      expect((await store.record(dlr('m1', 'ACK'), T + 1, LONG)).outcome).toBe('stale');
      expect((await store.record(dlr('m1', 'UNKNOWN'), T + 2, LONG)).outcome).toBe('change');
      expect((await store.record(dlr('m1', 'OTHER_NEW'), T + 3, LONG)).outcome).toBe('change');
      expect((await store.record(dlr('m1', 'DELIVRD'), T + 4, LONG)).outcome).toBe('change');
      expect((await store.record(dlr('m1', 'YET_ANOTHER'), T + 5, LONG)).outcome).toBe('stale');
    });

    it('keeps apart pending changes whose id and status differ only where a NUL falls', async () => {
      await store.record(dlr('a\u0000b', 'DELIVRD'), T, 1000);
      await store.record(dlr('a', 'b\u0000DELIVRD'), T + 1, 1000);
      expect(await store.countPending()).toBe(2);
      await store.complete({ messageId: 'a', status: 'b\u0000DELIVRD' });
      expect(await store.claimPending(10, LONG)).toEqual([
        { raw: dlr('a\u0000b', 'DELIVRD'), receivedAt: T, previousStatus: null },
      ]);
      await store.release({ messageId: 'a\u0000b', status: 'DELIVRD' });
      expect((await store.record(dlr('a\u0000b', 'DELIVRD'), Date.now(), LONG)).outcome).toBe('redelivery');
    });

    it('treats __proto__ and constructor as plain ids, statuses and keys', async () => {
      const raw = JSON.parse(
        '{"message_id":"__proto__","status":"constructor","omnimessage_id":"__proto__","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      ) as Record<string, unknown>;
      expect((await store.record(raw, T, LONG)).outcome).toBe('change');
      expect((await store.record(dlr('__proto__', '__proto__'), T + 1, LONG)).outcome).toBe('change');
      expect((await store.record(dlr('__proto__', 'constructor'), T + 2, LONG)).outcome).toBe('duplicate');
      expect((await store.record(dlr('constructor', 'toString'), T + 3, LONG)).outcome).toBe('change');
      const first = (await store.history('__proto__'))[0]!;
      expect(JSON.stringify(first.raw)).toBe(JSON.stringify(raw));
      expect(Object.getPrototypeOf(first.raw)).toBe(Object.prototype);
      expect(Object.hasOwn(first.raw, '__proto__')).toBe(true);
      expect(ids(await store.forOmnimessage('__proto__'))).toEqual(['__proto__/__proto__']);
      expect((await store.latest('constructor'))?.raw['status']).toBe('toString');
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(await store.latest('toString')).toBeNull();
    });

    describe('the feed and the search', () => {
      it('lists the latest changes of every message, newest first, no stale reports or duplicates', async () => {
        expect(await store.recent(50)).toEqual([]);
        await store.record(dlr('m1', 'ACCEPTD'), T, 1000);
        await store.record(dlr('m2', 'ACCEPTD'), T + 1, LONG);
        await store.record(dlr('m1', 'DELIVRD'), T + 2, LONG);
        await store.record(dlr('m1', 'ACK'), T + 3, LONG); // stale
        await store.record(dlr('m2', 'ACCEPTD'), T + 4, LONG); // duplicate
        await store.record(dlr('m1', 'ACCEPTD'), T + 5, LONG); // redelivery: not a new change
        await store.complete({ messageId: 'm2', status: 'ACCEPTD' });
        expect(ids(await store.recent(50))).toEqual(['m1/DELIVRD', 'm2/ACCEPTD', 'm1/ACCEPTD']);
        expect(await store.recent(1)).toEqual([
          { raw: dlr('m1', 'DELIVRD'), receivedAt: T + 2, previousStatus: 'ACCEPTD' },
        ]);
        expect(await store.recent(0)).toEqual([]);
        expect(await store.recent(-1)).toEqual([]);
        expect(await store.recent(Number.NaN)).toEqual([]);
      });

      it('keeps at most 500 changes for the feed, the newest', async () => {
        for (let i = 0; i < 510; i++) await store.record(dlr(`r${i}`, 'DELIVRD'), T + i, LONG);
        const recent = await store.recent(10_000);
        expect(recent).toHaveLength(500);
        expect(recent[0]?.raw['message_id']).toBe('r509');
        expect(recent[499]?.raw['message_id']).toBe('r10');
      });

      it('finds a message by its id, its omnimessage id, a prefix of 8 characters of either, or its phone', async () => {
        await store.record(
          dlr('5f2a9c1e-aaaa', 'ACCEPTD', { omnimessage_id: 'omni-0001-x', to: '+3725551' }),
          T,
          LONG,
        );
        await store.record(
          dlr('5f2a9c1e-bbbb', 'ACCEPTD', { omnimessage_id: 'omni-0001-x', to: '+3725552' }),
          T + 1,
          LONG,
        );
        await store.record(
          dlr('7b000000-cccc', 'ACCEPTD', { omnimessage_id: 'omni-0002-y', to: '+3725551' }),
          T + 2,
          LONG,
        );
        // A later change makes -aaaa the newest of the three.
        await store.record(
          dlr('5f2a9c1e-aaaa', 'DELIVRD', { omnimessage_id: 'omni-0001-x', to: '+3725551' }),
          T + 3,
          LONG,
        );
        expect(await store.search('5f2a9c1e-bbbb', 50)).toEqual(['5f2a9c1e-bbbb']);
        expect(await store.search('5f2a9c1e', 50)).toEqual(['5f2a9c1e-aaaa', '5f2a9c1e-bbbb']);
        expect(await store.search('5f2a9c1e', 1)).toEqual(['5f2a9c1e-aaaa']);
        expect(await store.search('omni-0001-x', 50)).toEqual(['5f2a9c1e-aaaa', '5f2a9c1e-bbbb']);
        expect(await store.search('omni-000', 50)).toEqual([
          '5f2a9c1e-aaaa',
          '7b000000-cccc',
          '5f2a9c1e-bbbb',
        ]);
        expect(await store.search('+3725551', 50)).toEqual(['5f2a9c1e-aaaa', '7b000000-cccc']);
        // Seven characters are not a prefix; nor is part of a phone number; nothing else matches.
        expect(await store.search('5f2a9c1', 50)).toEqual([]);
        expect(await store.search('omni-00', 50)).toEqual([]);
        expect(await store.search('+372555', 50)).toEqual([]);
        expect(await store.search('', 50)).toEqual([]);
        expect(await store.search('5f2a9c1e-aaaa-and-more', 50)).toEqual([]);
        expect(await store.search('5f2a9c1e', 0)).toEqual([]);
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
          await store.record(
            dlr(id, 'ACCEPTD', { omnimessage_id: `o\u0000${id}`, to: `+\u0000${i}` }),
            T + i,
            LONG,
          );
        }
        expect(await store.search('a\u0000bcdefg-0000', 50)).toEqual(['a\u0000bcdefg-0000']);
        expect(await store.search('a\u0000bcdefg-', 50)).toEqual([
          'a\u0000bcdefg-1111',
          'a\u0000bcdefg-0000',
        ]);
        expect(await store.search('a\u0000bcdef', 50)).toEqual([]);
        expect(await store.search(long, 50)).toEqual([long]);
        expect(await store.search(long.slice(0, 16), 50)).toEqual([long]);
        expect(await store.search(`o\u0000${long}`, 50)).toEqual([long]);
        expect(await store.search('+\u00003', 50)).toEqual(['\u0001"\\u0000"x']);
        expect(await store.search('%_\\[*?{}]-id', 50)).toEqual(['%_\\[*?{}]-id']);
        expect(await store.search('%_\\[*?{}]', 50)).toEqual(['%_\\[*?{}]-id']);
        expect(await store.search('ÄÖü-€-中文', 50)).toEqual(['ÄÖü-€-中文-ok']);
        // Wildcards of LIKE, glob or regex name nothing but themselves.
        for (const query of ['%%%%%%%%', '________', '.*.*.*.*', '********', '\\\\\\\\\\\\\\\\']) {
          expect(await store.search(query, 50)).toEqual([]);
        }
        expect(await store.recent(1)).toEqual([
          expect.objectContaining({ raw: expect.objectContaining({ message_id: 'ÄÖü-€-中文-ok' }) }),
        ]);
      });

      it(
        `answers recent() and search() as a model of the reports does (seed ${FUZZ_SEED})`,
        replayable(async () => {
          const report = fc.record({
            message: fc.constantFrom(
              'id-0000-a',
              'id-0000-b',
              'id-0001-c',
              'x\u0000y-0000-d',
              '中文中文中文中文-e',
            ),
            status: fc.constantFrom('ACCEPTD', 'DELIVRD', 'FAILED', 'ACK', 'NEW_ONE'),
            to: fc.constantFrom('+3725550', '+3725551'),
          });
          const queries = fc.constantFrom(
            'id-0000-a',
            'id-0000-',
            'id-0001',
            'id-000',
            'x\u0000y-0000',
            'omni-id-0000-a',
            'omni-id-',
            'omni-x\u0000y-0000-d',
            '中文中文中文中文',
            '中文中文中文中',
            '+3725550',
            '+3725551',
            'nothing',
          );
          await fc.assert(
            fc.asyncProperty(
              fc.array(report, { minLength: 1, maxLength: 12 }),
              queries,
              fc.integer({ min: 1, max: 6 }),
              async (reports, query, limit) => {
                const subjectStore = stores.create();
                try {
                  const model = new RecordModel();
                  for (const [i, { message, status, to }] of reports.entries()) {
                    const raw = dlr(message, status, { omnimessage_id: `omni-${message}`, to });
                    const outcome = (await subjectStore.record(raw, T + i, LONG)).outcome;
                    expect(outcome).toBe(model.record(raw, T + i));
                  }
                  expect(ids(await subjectStore.recent(limit))).toEqual(ids(model.recent(limit)));
                  expect(await subjectStore.search(query, limit)).toEqual(model.search(query, limit));
                } finally {
                  await subjectStore.close?.();
                }
              },
            ),
            { numRuns: subject === inMemory ? 300 : 25, seed: FUZZ_SEED },
          );
        }),
        60_000,
      );
    });
  });
});

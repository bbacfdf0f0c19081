import fc from 'fast-check';
import type { StoredReport } from '../../lib/interfaces/dlr-store.interface.js';
import { describeDlrStoreContract } from 'nestjs-messente-dlr/testing';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';
import { RecordModel } from '../support/change-model.js';
import { outcomeModelProperty } from '../support/outcome-store-contract.js';
import { trackingOf } from '../../lib/stores/tracking-of.js';
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

// Every store of the package passes the contract users run against their own stores
// (nestjs-messente-dlr/testing), and, in addition, a model-based property that needs fast-check.
describe.each([inMemory, redis, redisCluster, postgres])('DlrStore contract: $name', (subject) => {
  subject.describe(subject.name, () => {
    const stores = subject.setup();
    describeDlrStoreContract('describeDlrStoreContract', {
      create: () => stores.create(),
      tracking: subject.tracking === true,
      deliveryStats: subject.deliveryStats === true,
    });

    if (subject.tracking) {
      describe('tracking, against a model', () => {
        outcomeModelProperty(() => trackingOf(stores.create())!);
      });
    }

    describe('the feed and the search, against a model', () => {
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

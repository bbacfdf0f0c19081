import fc from 'fast-check';
import { DeliveryStatusEvents, MessenteDlrModule } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { FUZZ_SEED as seed, replayable } from '../support/fuzz-seed.js';

const SECRET = 'fuzz-secret';
const BAD_BODIES = 10_000;
const VALID_BODIES = 1_000;
const CONCURRENCY = 32;

/** A value of the wrong type for any field: never a non-empty string, never an integer. */
const wrongType = fc.oneof(
  fc.boolean(),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const hugeString = fc.integer({ min: 1_000, max: 60_000 }).map((n) => 'x'.repeat(n));
/** Arrays nested `depth` levels, as text: JSON.stringify itself cannot nest thousands deep. */
const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** A field that takes its body past 32 levels (the body is level 1), up to thousands deep. */
const deepNesting = fc.integer({ min: 32, max: 20_000 }).map(arrays);
/** A field that keeps its body within 32 levels. */
const allowedNesting = fc.integer({ min: 1, max: 31 }).map(arrays);
/** A body serialised with a deeply nested extra field spliced in. */
function withDeepField(body: Record<string, unknown>, deep: string): string {
  return `${JSON.stringify(body).slice(0, -1)},"deep":${deep}}`;
}
const badStatus = fc.oneof(
  fc.constant(''),
  fc.constant('delivered'),
  fc.constant('DELIV RD'),
  fc.constant('A'.repeat(33)),
  fc.constant('__proto__'),
  wrongType,
  fc.constant(null),
);
const badId = fc.oneof(
  fc.constant(''),
  fc.constant(null),
  hugeString.map((s) => s.slice(0, 300)),
  wrongType,
  fc.integer(),
);

/** Bodies that must be refused: each breaks at least one rule of SPEC's validation. */
const badBody: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .record({ field: fc.constantFrom('message_id', 'status') })
    .map(({ field }) => dlrPayload({ [field]: undefined })),
  badId.map((message_id) => dlrPayload({ message_id })),
  badStatus.map((status) => dlrPayload({ status })),
  fc.oneof(wrongType, fc.string()).map((err) => dlrPayload({ err })),
  fc.oneof(wrongType, fc.integer()).map((error) => dlrPayload({ error })),
  fc
    .oneof(
      wrongType,
      fc.string().filter((s) => !/^\d{4}-/.test(s)),
      fc.integer(),
    )
    .map((timestamp) => dlrPayload({ timestamp })),
  fc.oneof(fc.string(), fc.integer(), fc.array(fc.integer())).map((price_info) => dlrPayload({ price_info })),
  fc.oneof(wrongType, fc.integer()).map((part_price) => dlrPayload({ price_info: { part_price } })),
  fc.oneof(wrongType, fc.string()).map((parts_count) => dlrPayload({ price_info: { parts_count } })),
  fc.oneof(wrongType, fc.integer()).map((channel) => dlrPayload({ channel })),
  fc.oneof(fc.array(fc.anything()), fc.constant(null), fc.string(), fc.integer(), fc.boolean()),
  fc
    .dictionary(fc.string(), fc.anything())
    .filter((body) => typeof body['message_id'] !== 'string' || typeof body['status'] !== 'string'),
  deepNesting.map((deep) => withDeepField({ message_id: 'm', status: 'bad status' }, deep)),
  deepNesting.map((deep) => withDeepField(dlrPayload(), deep)),
  hugeString.map((huge) => dlrPayload({ status: huge })),
  fc
    .dictionary(fc.string(), fc.anything())
    .map((rest) => Object.assign(JSON.parse('{"__proto__":{"polluted":true}}') as object, rest)),
);

/**
 * Bodies that must be accepted: fresh ids, optional fields present or not, extra fields kept.
 * Fastify refuses `__proto__` and `constructor.prototype` keys by default (its
 * onProtoPoisoning setting), so on Fastify extras do not carry them; a test below pins that.
 */
const validBody = (adapter: string): fc.Arbitrary<unknown> =>
  fc
    .record(
      {
        status: fc.constantFrom('ACCEPTD', 'DELIVRD', 'FAILED', 'SEEN', 'SOME_NEW_STATUS'),
        err: fc.oneof(fc.integer(), fc.constant(null)),
        error: fc.oneof(fc.string(), fc.constant(null)),
        channel: fc.constantFrom('sms', 'viber', 'whatsapp', 'rcs'),
        extra: fc
          .jsonValue({ maxDepth: 3 })
          .filter(
            (extra) => adapter !== 'fastify' || !/"(__proto__|constructor)"/.test(JSON.stringify(extra)),
          ),
      },
      { requiredKeys: ['status'] },
    )
    .chain((fields) =>
      fc
        .option(allowedNesting)
        .map((deep) => (deep ? withDeepField(dlrPayload(fields), deep) : dlrPayload(fields))),
    );

async function sendAll(baseUrl: string, bodies: unknown[]): Promise<number[]> {
  const statuses: number[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const index = next++;
        statuses[index] = (await postDlr(baseUrl, bodies[index], { secret: SECRET })).status;
      }
    }),
  );
  return statuses;
}

describe.each(ADAPTERS)(`intake fuzzing on %s (seed ${seed})`, (adapter) => {
  let running: TestApp;
  let events: number;
  beforeAll(async () => {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
    });
    events = 0;
    running.app.get(DeliveryStatusEvents).changes$.subscribe(() => events++);
  });
  afterAll(() => running.close());

  it(
    `refuses ${BAD_BODIES} generated bad bodies with 400 or 413 and emits nothing`,
    replayable(async () => {
      const bodies = fc.sample(badBody, { numRuns: BAD_BODIES, seed });
      const statuses = await sendAll(running.baseUrl, bodies);
      const unexpected = statuses
        .map((status, index) => ({ status, index }))
        .filter(({ status }) => status !== 400 && status !== 413);
      expect(
        unexpected.slice(0, 5).map(({ status, index }) => ({
          status,
          body: (typeof bodies[index] === 'string'
            ? (bodies[index] as string)
            : JSON.stringify(bodies[index])
          ).slice(0, 200),
        })),
      ).toEqual([]);
      expect(events).toBe(0);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    }),
  );

  it(
    `accepts ${VALID_BODIES} generated valid bodies, one event each`,
    replayable(async () => {
      const bodies = fc.sample(validBody(adapter), { numRuns: VALID_BODIES, seed });
      const before = events;
      const statuses = await sendAll(running.baseUrl, bodies);
      const refused = statuses
        .map((status, index) => ({ status, index }))
        .filter(({ status }) => status !== 200);
      expect(
        refused.slice(0, 3).map(({ status, index }) => ({
          status,
          body: String(JSON.stringify(bodies[index])).slice(0, 300),
        })),
      ).toEqual([]);
      expect(events - before).toBe(VALID_BODIES);
      // The process is healthy: a plain report still goes through.
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    }),
  );

  it('keeps a __proto__ key as data on Express and refuses it on Fastify, polluting nothing', async () => {
    const raw = `${JSON.stringify(dlrPayload()).slice(0, -1)},"__proto__":{"polluted":true}}`;
    const before = events;
    const answer = await postDlr(running.baseUrl, raw, { secret: SECRET });
    expect(answer.status).toBe(adapter === 'fastify' ? 400 : 200);
    expect(events - before).toBe(adapter === 'fastify' ? 0 : 1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

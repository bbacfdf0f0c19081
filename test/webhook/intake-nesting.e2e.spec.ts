import { DeliveryReportStats, DeliveryStatusService, MessenteDlrModule } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { MAX_DLR_BODY_DEPTH } from '../../lib/utils/nesting-depth.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { inMemorySubject, postgresSubject, redisSubject } from '../support/store-subjects.js';

const SECRET = 'nesting-secret';

const inMemory = inMemorySubject;
const redis = redisSubject('nesting');
const postgres = postgresSubject('nesting');

/**
 * A signed-to-be report whose body nests `depth` levels (the body itself is level 1): its
 * `deep` field alternates arrays and objects down to a number. Built as text, since
 * `JSON.stringify` cannot serialise thousands of levels.
 */
function nestedReport(depth: number): { raw: string; messageId: string } {
  const payload = dlrPayload();
  const levels = depth - 1;
  let opening = '';
  let closing = '';
  for (let level = 0; level < levels; level++) {
    opening += level % 2 === 0 ? '[' : '{"n":';
    closing = (level % 2 === 0 ? ']' : '}') + closing;
  }
  const raw = `${JSON.stringify(payload).slice(0, -1)},"deep":${opening}0${closing}}`;
  return { raw, messageId: payload['message_id'] as string };
}

for (const subject of [inMemory, redis, postgres]) {
  subject.describe(`nesting limit with ${subject.name}`, () => {
    const stores = subject.setup();

    describe.each(ADAPTERS)('on %s', (adapter) => {
      let running: TestApp | undefined;
      afterEach(async () => {
        await running?.close();
        running = undefined;
      });

      it(`refuses bodies deeper than ${MAX_DLR_BODY_DEPTH} levels with 400 invalid_body, records nothing, and keeps answering`, async () => {
        running = await startApp(adapter, {
          imports: [
            MessenteDlrModule.forRoot({
              signatureSecrets: [SECRET],
              allowedIps: ['127.0.0.1'],
              store: stores.create(),
            }),
          ],
        });
        const { app, baseUrl } = running;
        const statuses = app.get(DeliveryStatusService);

        const refused = [nestedReport(33), nestedReport(5_000)];
        for (const { raw, messageId } of refused) {
          const answer = await postDlr(baseUrl, raw, { secret: SECRET });
          expect(answer.status).toBe(400);
          expect(answer.body).toMatchObject({ message: ['body must not nest deeper than 32 levels'] });
          expect(await statuses.history(messageId)).toEqual([]);
          expect(await statuses.latest(messageId)).toBeNull();
        }
        expect(app.get(DeliveryReportStats).snapshot().requests).toEqual({
          accepted: 0,
          refused: { invalid_body: 2 },
        });

        // The store still answers, and takes a body exactly at the limit, readable back.
        const atLimit = nestedReport(32);
        const answer = await postDlr(baseUrl, atLimit.raw, { secret: SECRET });
        expect([answer.status, answer.body]).toEqual([200, { outcome: 'change' }]);
        const history = await statuses.history(atLimit.messageId);
        expect(history).toHaveLength(1);
        expect(history[0]!.raw).toEqual(JSON.parse(atLimit.raw));
        expect((await statuses.latest(atLimit.messageId))?.raw).toEqual(JSON.parse(atLimit.raw));
        for (let i = 0; i < 3; i++) {
          expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
        }
        expect(app.get(DeliveryReportStats).snapshot().requests).toEqual({
          accepted: 4,
          refused: { invalid_body: 2 },
        });
      });
    });
  });
}

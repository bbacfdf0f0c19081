import { Injectable } from '@nestjs/common';
import {
  DeliveryStatusService,
  OnDeliveryOutcome,
  type DeliveryOutcomeChanged,
  type DlrStore,
} from '../../lib/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, waitFor, type TestApp } from './app.js';
import type { Instances } from './instances.js';

/** What each send of `expectEachOutcomeOnce` is, and the outcome it must end with. */
const KINDS = ['fallback', 'failed', 'overdue'] as const;
const EXPECTED = { fallback: 'delivered', failed: 'failed', overdue: 'overdue' } as const;

/**
 * Two apps sharing a store (`storeFor()` gives each its own client on the same backend) are
 * each given every `track()` and every report at once, for `sends` omnimessages mixing a Viber →
 * SMS fallback that SMS delivers, a send that fails on both channels, and a send that hears
 * nothing by its deadline (found by both apps' overdue sweeps). Asserts that outcome handlers
 * fire exactly once per (omnimessage, result) across both apps, and nothing else.
 */
export async function expectEachOutcomeOnce(
  instances: Instances,
  storeFor: () => DlrStore,
  sends = 300,
): Promise<void> {
  const fired: string[] = [];
  @Injectable()
  class OutcomeRecorder {
    @OnDeliveryOutcome('*') on({ outcome }: DeliveryOutcomeChanged) {
      fired.push(`${outcome.omnimessageId}:${outcome.result}`);
    }
  }
  const options = { tracking: { sweepIntervalMs: 50 } };
  const apps: TestApp[] = [];
  for (const adapter of ['express', 'fastify'] as const) {
    apps.push(await instances.startOn(adapter, storeFor(), options, [OutcomeRecorder]));
  }
  instances.apps.push(...apps);
  const services = apps.map((app) => app.app.get(DeliveryStatusService));
  const plan = Array.from({ length: sends }, (_, index) => ({
    kind: KINDS[index % KINDS.length]!,
    answer: buildSendAnswer({ channels: ['viber', 'sms'] }),
  }));
  const failures: number[] = [];
  const post = async (answer: (typeof plan)[number]['answer'], index: number, status: string, err = 0) => {
    const body = dlrPayload({
      message_id: answer.messages[index]!.message_id,
      omnimessage_id: answer.omnimessage_id,
      channel: answer.messages[index]!.channel,
      status,
      err,
    });
    const answers = await Promise.all(
      apps.map((app) => postDlr(app.baseUrl, body, { secret: instances.secret })),
    );
    for (const { status: code } of answers) if (code !== 200) failures.push(code);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < plan.length) {
        const { kind, answer } = plan[next++]!;
        // Overdue sends are due at once; the others far later.
        const deadline = new Date(Date.now() + (kind === 'overdue' ? -1 : 3_600_000));
        const tracking = Promise.all(services.map((service) => service.track(answer, { deadline })));
        if (kind === 'fallback') {
          await post(answer, 0, 'FAILED', 1);
          await post(answer, 1, 'DELIVRD');
        } else if (kind === 'failed') {
          await post(answer, 0, 'FAILED', 1);
          await post(answer, 1, 'UNDELIV', 3);
        }
        await tracking;
      }
    }),
  );
  expect(failures).toEqual([]);
  const expected = plan.map(({ kind, answer }) => `${answer.omnimessage_id}:${EXPECTED[kind]}`).sort();
  await waitFor(() => fired.length >= expected.length, 30_000).catch(() => undefined);
  // Long enough for a second sweep on either app to fire anything twice.
  await delay(300);
  expect([...fired].sort()).toEqual(expected);
}

import { Injectable } from '@nestjs/common';
import fc from 'fast-check';
import { DeliveryStatusChanged, MessenteDlrModule, OnDlrStatus } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { ChangeModel } from '../support/change-model.js';
import { FUZZ_SEED as seed, replayable } from '../support/fuzz-seed.js';

const SECRET = 'load-secret';
const MESSAGES = 5_000;
const CONCURRENCY = 64;
const DUPLICATE_RATE = 0.1;

interface Message {
  readonly id: string;
  /** Bodies in the (shuffled) order they are sent. */
  readonly reports: Record<string, unknown>[];
}

const STATUSES = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'UNDELIV', 'SEEN', 'NEW_STATUS'];

/** 5 000 messages of four distinct statuses each in shuffled order, plus 10 % exact duplicates. */
function generateTraffic(): Message[] {
  const orders = fc.sample(fc.shuffledSubarray(STATUSES, { minLength: 4, maxLength: 4 }), {
    numRuns: MESSAGES,
    seed,
  });
  const traffic = orders.map((order, index) => {
    const id = `load-${index}-${crypto.randomUUID()}`;
    return { id, reports: order.map((status) => dlrPayload({ message_id: id, status })) };
  });
  const copies = fc.sample(fc.tuple(fc.nat(MESSAGES - 1), fc.nat(3), fc.nat(4)), {
    numRuns: MESSAGES * 4 * DUPLICATE_RATE,
    seed: seed + 1,
  });
  for (const [message, which, where] of copies) {
    const reports = traffic[message]!.reports;
    reports.splice(where % (reports.length + 1), 0, reports[which % reports.length]!);
  }
  return traffic;
}

describe.each(ADAPTERS)(`exactly-once changes under load on %s (seed ${seed})`, (adapter) => {
  const seen = new Map<string, string[]>();
  let running: TestApp;

  @Injectable()
  class Counter {
    @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
      const list = seen.get(event.messageId) ?? [];
      list.push(event.status);
      seen.set(event.messageId, list);
    }
  }

  beforeAll(async () => {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
      providers: [Counter],
    });
  });
  afterAll(() => running.close());
  beforeEach(() => seen.clear());

  async function run(copies: 1 | 2) {
    const traffic = generateTraffic();
    const reports = traffic.reduce((sum, message) => sum + message.reports.length, 0);
    const duplicates =
      reports - traffic.reduce((sum, m) => sum + new Set(m.reports.map((r) => r['status'])).size, 0);
    expect(reports).toBeGreaterThanOrEqual(20_000);
    expect(duplicates / reports).toBeGreaterThanOrEqual(0.09);
    const model = new ChangeModel();
    const failures: number[] = [];
    let next = 0;
    // Each worker sends one message's reports one after another, so the order the store
    // sees for a message is the order sent; 64 messages are in flight at any time.
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < traffic.length) {
          const message = traffic[next++]!;
          for (const report of message.reports) {
            model.apply(message.id, report['status'] as string);
            const answers = await Promise.all(
              Array.from({ length: copies }, () => postDlr(running.baseUrl, report, { secret: SECRET })),
            );
            for (const answer of answers) if (answer.status !== 200) failures.push(answer.status);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    const expectedCalls = [...model.changes.values()].reduce((sum, list) => sum + list.length, 0);
    const actualCalls = () => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
    await waitFor(() => actualCalls() >= expectedCalls, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(actualCalls()).toBe(expectedCalls);
    // Per message: exactly the model's changes, in the model's order.
    const mismatches = traffic.filter(
      (message) =>
        JSON.stringify(seen.get(message.id) ?? []) !== JSON.stringify(model.changes.get(message.id) ?? []),
    );
    expect(
      mismatches.slice(0, 3).map((m) => ({
        sent: m.reports.map((r) => r['status']),
        got: seen.get(m.id),
        want: model.changes.get(m.id),
      })),
    ).toEqual([]);
  }

  it(
    'fires handlers exactly as the reference model says, in order, with duplicates and shuffled order',
    replayable(() => run(1)),
    180_000,
  );
  it(
    'fires each change once when every report arrives twice at the same instant',
    replayable(() => run(2)),
    240_000,
  );
});

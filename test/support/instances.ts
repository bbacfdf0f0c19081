import { dlrPayload } from '../../lib/testing/index.js';
import { postDlr, type TestApp } from './app.js';
import { ChangeModel } from './change-model.js';
import { FUZZ_SEED, seededRandom, shuffled } from './fuzz-seed.js';

/** Statuses a multi-instance stream mixes: every precedence level, so stale reports occur too. */
export const STREAM_STATUSES = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'SEEN'];

/** What `postToAllAtOnce` sent and what the instances answered. */
export interface FanOutResult {
  readonly messages: readonly string[];
  readonly model: ChangeModel;
  /** Every change the model expects handlers for, as `messageId:status`. */
  readonly expected: readonly string[];
  /** HTTP statuses other than 200. */
  readonly failures: readonly number[];
}

/**
 * Posts four shuffled reports for each of `messageCount` messages to every app at the same
 * instant (`concurrency` messages in flight), and computes with `ChangeModel` which changes
 * the handlers must see, exactly once in total.
 */
export async function postToAllAtOnce(
  apps: readonly TestApp[],
  secret: string,
  messageCount: number,
  concurrency = 32,
): Promise<FanOutResult> {
  const messages = Array.from({ length: messageCount }, () => crypto.randomUUID());
  // Four statuses per message, drawn before sending so that FUZZ_SEED replays the orders.
  const random = seededRandom(FUZZ_SEED);
  const orders = messages.map(() => shuffled(STREAM_STATUSES, random).slice(0, 4));
  const model = new ChangeModel();
  const failures: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const index = next++;
        const id = messages[index]!;
        for (const status of orders[index]!) {
          model.apply(id, status);
          const body = dlrPayload({ message_id: id, status });
          const answers = await Promise.all(apps.map((app) => postDlr(app.baseUrl, body, { secret })));
          for (const answer of answers) if (answer.status !== 200) failures.push(answer.status);
        }
      }
    }),
  );
  const expected = [...model.changes].flatMap(([id, statuses]) =>
    statuses.map((status) => `${id}:${status}`),
  );
  return { messages, model, expected, failures };
}

/** One answer of `streamReports`. */
export interface StreamAnswer {
  readonly id: string;
  readonly status: number;
  readonly ms: number;
  readonly outcome?: string;
}

/**
 * Posts fresh `DELIVRD` reports to `app` from `senders` loops until `stop()` is called; every
 * answer is collected with its latency. Resolves, once stopped, with all of them.
 */
export function streamReports(
  app: TestApp,
  secret: string,
  senders = 8,
): { readonly answers: StreamAnswer[]; stop(): Promise<StreamAnswer[]> } {
  const answers: StreamAnswer[] = [];
  let stopped = false;
  const loops = Array.from({ length: senders }, async () => {
    while (!stopped) {
      const id = crypto.randomUUID();
      const started = Date.now();
      const answer = await postDlr(app.baseUrl, dlrPayload({ message_id: id, status: 'DELIVRD' }), {
        secret,
      });
      answers.push({
        id,
        status: answer.status,
        ms: Date.now() - started,
        outcome: (answer.body as { outcome?: string } | null)?.outcome,
      });
    }
  });
  return {
    answers,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return answers;
    },
  };
}

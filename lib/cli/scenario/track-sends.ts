import { buildSendAnswer, type SendAnswer } from '../../testing/build-send-answer.js';
import { CliFailure } from '../shared/cli-errors.js';
import { isSuccess } from '../shared/http-answer.js';
import { sendHttp, UnreachableError } from '../shared/http-send.js';
import type { ScenarioSend, SendAnswers } from './scenario-file.js';

/** A send of the scenario as `--json` prints it: its name, ref and ids. */
export interface SentSend {
  readonly name: string;
  readonly ref: string | null;
  readonly answer: SendAnswer;
}

/** Messente's send answer for each send of a scenario, with fresh ids, by name. */
export function buildSendAnswers(sends: readonly ScenarioSend[]): SendAnswers {
  return new Map(
    sends.map((send) => [send.name, buildSendAnswer({ channels: send.channels, to: send.to ?? undefined })]),
  );
}

/**
 * Posts `{ "ref": ..., "answer": <the send answer> }` for each send to the app's own endpoint
 * (`--track URL`), whose handler passes them to `DeliveryStatusService.track()`: so the app
 * tracks the sends before their reports arrive, as it would after a real send.
 */
export async function trackSends(
  url: URL,
  sends: readonly ScenarioSend[],
  answers: SendAnswers,
): Promise<SentSend[]> {
  const sent: SentSend[] = [];
  for (const send of sends) {
    const answer = answers.get(send.name)!;
    const body = Buffer.from(JSON.stringify({ ref: send.ref, answer }));
    try {
      const reply = await sendHttp(url, { headers: { 'content-type': 'application/json' }, body });
      if (!isSuccess(reply.status)) {
        throw new CliFailure(`--track ${url.href} answered ${reply.status} for send "${send.name}"`);
      }
    } catch (error) {
      if (error instanceof UnreachableError)
        throw new CliFailure(`--track: cannot reach ${url.href}: ${error.message}`);
      throw error;
    }
    sent.push({ name: send.name, ref: send.ref, answer });
  }
  return sent;
}

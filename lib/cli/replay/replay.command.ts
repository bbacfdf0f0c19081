import { UsageError } from '../shared/cli-errors.js';
import type { CliCommand } from '../shared/cli-command.js';
import { Printer } from '../shared/printer.js';
import type { CliIo } from '../shared/cli-io.js';
import { answerOutcome, answerText, isSuccess } from '../shared/http-answer.js';
import { endToEndHeaders } from '../shared/http-headers.js';
import { sendHttp } from '../shared/http-send.js';
import { parseCommandArgs, positiveInteger, requireUrl } from '../shared/parse-command-args.js';
import { MAX_RECORDING_BYTES, readRecording } from './read-recording.js';
import { recordedBody, type RecordedAnswer } from '../shared/recording.js';
import { summarizeReport } from '../shared/report-summary.js';
import { escapeControl } from '../shared/terminal-text.js';
import { runSendLoop } from '../shared/send-loop.js';

/** `messente-dlr replay FILE --url URL [--index N]`: resends recorded requests byte for byte. */
export const replayCommand: CliCommand = {
  name: 'replay',
  summary: 'resend requests recorded by listen, byte for byte, with their signature',
  help: `Usage: messente-dlr replay FILE --url URL [--index N] [--json]

Resends the requests recorded by "messente-dlr listen --record FILE" to URL, in order: the
same method, headers (X-Messente-Signature included) and body bytes. Prints what each got
then and gets now. Exit code 0 when every answer is 2xx, 1 otherwise; 2 when FILE is not a
recording (each line is checked before anything is sent) or is larger than ${MAX_RECORDING_BYTES / 1024 / 1024} MiB.

Options:
  --url URL     the webhook's full URL, e.g. http://127.0.0.1:3000/messente/dlr
  --index N     resend only the Nth recorded request (counting from 1)
  --json        print one JSON document
  -h, --help    show this help

Example:
  messente-dlr replay dlr.jsonl --url http://127.0.0.1:3000/messente/dlr --index 2`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      args,
      { url: { type: 'string' }, index: { type: 'string' } },
      1,
    );
    const file = positionals[0];
    if (file === undefined) throw new UsageError('give the FILE recorded by messente-dlr listen --record');
    const url = requireUrl(values.url);
    const index = values.index === undefined ? null : positiveInteger(values.index, '--index');
    const recording = await readRecording(file);
    if (index !== null && index > recording.length) {
      throw new UsageError(
        `--index ${index}: ${file} holds ${recording.length} request${recording.length === 1 ? '' : 's'}`,
      );
    }
    const chosen = recording
      .map((request, i) => ({ request, number: i + 1 }))
      .filter(({ number }) => index === null || number === index);

    const printer = new Printer(io);
    if (!values.json)
      printer.line(`Replaying ${chosen.length} of ${recording.length} from ${file} to ${url.href}`);
    return runSendLoop(io, {
      url,
      items: chosen,
      json: values.json === true,
      async send({ request, number }): Promise<ReplayResult> {
        const body = recordedBody(request);
        const answer = await sendHttp(url, {
          method: request.method,
          headers: endToEndHeaders(request.headers),
          body,
        });
        const summary = summarizeReport(body);
        return {
          index: number,
          status: summary?.status ?? null,
          messageId: summary?.messageId ?? null,
          recorded: request.answer ?? null,
          httpStatus: answer.status,
          outcome: answerOutcome(answer.body),
          body: answerText(answer.body, Infinity),
        };
      },
      passed: (result) => isSuccess(result.httpStatus),
      label: ({ number }) => `request ${number}`,
      printEach: (result) => printResult(printer, result),
      document: ({ ok, results, error }) => ({ url: url.href, file, ok, requests: results, error }),
    });
  },
};

/** One resent request, as `--json` prints it. */
interface ReplayResult {
  readonly index: number;
  readonly status: string | null;
  readonly messageId: string | null;
  readonly recorded: RecordedAnswer | null;
  readonly httpStatus: number;
  readonly outcome: string | null;
  readonly body: string;
}

function printResult(printer: Printer, result: ReplayResult): void {
  // Ids, statuses and answers come from the file and the app: controls shown escaped.
  const recorded = result.recorded;
  const then =
    recorded === null
      ? '-'
      : 'error' in recorded
        ? recorded.error
        : `${recorded.httpStatus} ${answerOutcome(Buffer.from(recorded.body)) ?? ''}`.trimEnd();
  const now = `${result.httpStatus} ${result.outcome ?? answerText(Buffer.from(result.body))}`.trimEnd();
  printer.line(
    `#${result.index}  ${escapeControl(result.status ?? '-').padEnd(8)}  message ${escapeControl(result.messageId ?? '-')}  ` +
      `recorded: ${escapeControl(then)}  now: ${printer.paint(isSuccess(result.httpStatus) ? 'green' : 'red', escapeControl(now))}`,
  );
}

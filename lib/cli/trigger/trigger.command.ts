import { randomUUID } from 'node:crypto';
import { dlrPayload } from '../../testing/dlr-payload.js';
import { UsageError } from '../shared/cli-errors.js';
import type { CliCommand } from '../shared/cli-command.js';
import { Printer } from '../shared/printer.js';
import type { CliIo } from '../shared/cli-io.js';
import { answerText, isRedirect, isSuccess } from '../shared/http-answer.js';
import { accountUrl, parseCommandArgs, requireSecret, requireUrl } from '../shared/parse-command-args.js';
import { applyOverrides, parseOverride } from './report-overrides.js';
import { escapeControl } from '../shared/terminal-text.js';
import { postReport } from '../shared/webhook-request.js';
import { runSendLoop } from '../shared/send-loop.js';

/** `messente-dlr trigger <STATUS...> --url URL`: one report per status for one message. */
export const triggerCommand: CliCommand = {
  name: 'trigger',
  summary: 'send one signed report per status, in order, for one message',
  help: `Usage: messente-dlr trigger <STATUS...> --url URL [--account ID] [options]

Sends one signed delivery report per STATUS, in order, for the same message, and prints
each answer. Exit code 0 when every answer is 2xx, 1 otherwise. A 3xx answer shows its
Location: Messente counts it as received and never follows it, so the report would be lost.

Options:
  --url URL              the webhook's full URL, e.g. http://127.0.0.1:3000/messente/dlr
  --account ID           post to URL/ID: an app whose accounts has a resolver answers at
                         {path}/:account. --secret is then that account's password
  --secret S             the API key's password (default: MESSENTE_API_PASSWORD)
  --message-id ID        message_id of every report (default: a fresh UUID)
  --omnimessage-id ID    omnimessage_id of every report (default: a fresh UUID)
  --channel C            sms, viber, whatsapp, rcs... (default: sms)
  --set key=value        set a field of every report; repeatable. The value is JSON when it
                         parses as JSON, else a string: --set err=1 --set error="Delivery failure"
                         --set price_info.parts_count=2
  --unsigned             send no X-Messente-Signature
  --json                 print one JSON document
  -h, --help             show this help

Statuses: ACCEPTD ACK UNKNOWN DELIVRD UNDELIV FAILED REJECTD EXPIRED NACK DELETED SEEN

Example:
  messente-dlr trigger ACCEPTD DELIVRD --url http://127.0.0.1:3000/messente/dlr --secret s3cret`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals: statuses } = parseCommandArgs(
      args,
      {
        url: { type: 'string' },
        account: { type: 'string' },
        secret: { type: 'string' },
        'message-id': { type: 'string' },
        'omnimessage-id': { type: 'string' },
        channel: { type: 'string' },
        set: { type: 'string', multiple: true },
        unsigned: { type: 'boolean' },
      },
      Infinity,
    );
    if (statuses.length === 0) throw new UsageError('give at least one STATUS, e.g. trigger ACCEPTD DELIVRD');
    const url = accountUrl(requireUrl(values.url), values.account);
    const account = values.account ?? null;
    const overrides = (values.set ?? []).map(parseOverride);
    const secret = values.unsigned ? null : requireSecret(values.secret, io.env, 'or pass --unsigned');
    const messageId = values['message-id'] ?? randomUUID();
    const omnimessageId = values['omnimessage-id'] ?? randomUUID();
    const channel = values.channel ?? 'sms';

    const printer = new Printer(io);
    if (!values.json) {
      printer.line(`POST ${url.href}${secret ? '' : '  (unsigned)'}`);
      printer.line(
        printer.paint(
          'dim',
          `message_id ${escapeControl(messageId)}  omnimessage_id ${escapeControl(omnimessageId)}`,
        ),
      );
    }
    return runSendLoop(io, {
      url,
      items: statuses,
      json: values.json === true,
      async send(status): Promise<TriggerResult> {
        const report = applyOverrides(
          dlrPayload({ message_id: messageId, omnimessage_id: omnimessageId, status, channel }),
          overrides,
        );
        const answer = await postReport(url, JSON.stringify(report), secret ? 'valid' : 'none', secret);
        return {
          status,
          httpStatus: answer.status,
          body: answerText(answer.body, Infinity),
          location: isRedirect(answer.status) ? (answer.headers.location ?? null) : null,
        };
      },
      passed: (result) => isSuccess(result.httpStatus),
      printEach: (result) => printResult(printer, result),
      document: ({ ok, results, error }) => ({
        url: url.href,
        account,
        messageId,
        omnimessageId,
        ok,
        results,
        error,
      }),
    });
  },
};

interface TriggerResult {
  readonly status: string;
  readonly httpStatus: number;
  readonly body: string;
  /** The `Location` of a 3xx answer (null otherwise, or when it has none). */
  readonly location: string | null;
}

function printResult(printer: Printer, result: TriggerResult): void {
  let answer = `${result.httpStatus} ${answerText(Buffer.from(result.body))}`.trimEnd();
  // Messente counts 3xx as received and never follows it: the report would be lost.
  if (isRedirect(result.httpStatus)) {
    answer =
      `${result.httpStatus} redirect to ${result.location ?? '(no Location)'}: Messente would count it as ` +
      'received and never reach the webhook; use the final URL';
  }
  printer.line(
    `${escapeControl(result.status).padEnd(8)} ${printer.paint(isSuccess(result.httpStatus) ? 'green' : 'red', escapeControl(answer))}`,
  );
}

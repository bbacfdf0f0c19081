import { BUILTIN_SCENARIO } from './builtin-scenario.js';
import { UsageError } from '../shared/cli-errors.js';
import type { CliCommand } from '../shared/cli-command.js';
import { Printer } from '../shared/printer.js';
import type { CliIo } from '../shared/cli-io.js';
import { answerOutcome, answerText, isSuccess } from '../shared/http-answer.js';
import { accountUrl, optionalSecret, parseCommandArgs, requireUrl } from '../shared/parse-command-args.js';
import { readInputText } from '../shared/read-input-file.js';
import {
  buildReports,
  checkScenario,
  parseScenario,
  type Scenario,
  type ScenarioExpectation,
  type ScenarioStep,
} from './scenario-file.js';
import { escapeControl } from '../shared/terminal-text.js';
import { runSendLoop } from '../shared/send-loop.js';
import { postReport } from '../shared/webhook-request.js';
import { buildSendAnswers, trackSends } from './track-sends.js';

/** Scenario files larger than this are refused (a scenario is a few kilobytes). */
const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/** `messente-dlr scenario [FILE] --url URL`: runs steps and checks every answer. */
export const scenarioCommand: CliCommand = {
  name: 'scenario',
  summary: 'run a scenario of reports (a file, or the built-in one) and check each answer',
  help: `Usage: messente-dlr scenario [FILE] --url URL [--account ID] [--secret S] [--track URL] [--json]

Runs the steps of a scenario against a webhook, in order, and prints a table of what was
sent, what the webhook answered and what was expected. Without FILE it runs the built-in
scenario: SMS, Viber and WhatsApp lifecycles, a duplicate, a report that arrives out of
order, a fallback from Viber to SMS, an unsigned and a wrongly signed report.
Exit code 0 when every step got what it expected, 1 otherwise.

Options:
  --url URL     the webhook's full URL, e.g. http://127.0.0.1:3000/messente/dlr
  --account ID  post to URL/ID: an app whose accounts has a resolver answers at
                {path}/:account. --secret is then that account's password
  --secret S    the API key's password (default: MESSENTE_API_PASSWORD)
  --track URL   first POST { "ref", "answer" } for each of the file's sends to URL, your app's
                own endpoint that passes them to DeliveryStatusService.track()
  --json        print one JSON document
  -h, --help    show this help

Scenario file:
  { "steps": [
      { "name": "SMS accepted", "report": { "status": "ACCEPTD" },
        "expect": { "httpStatus": 200, "outcome": "change" } },
      { "name": "delivered", "report": { "message_id": "$step.1.message_id", "status": "DELIVRD" } },
      { "name": "unsigned", "sign": false, "headers": { "x-forwarded-for": "203.0.113.9" },
        "expect": { "httpStatus": 401 } } ] }
  report   fields over a fresh valid report (new ids, status DELIVRD, channel sms)
  "$step.N.field"  the field of step N's report (N counts from 1), e.g. to reuse its message_id
  sends    { "order-1": { "channels": ["viber", "sms"], "ref": "order-1", "to": "+37251234567" } }:
           sends whose ids are made up front (a send answer each; "to" is optional);
           "$send.order-1.omnimessage_id", "$send.order-1.to" and "$send.order-1.sms" (that
           channel's message_id) put them in a step's report
  sign     true (default), false (no signature) or "wrong" (a signature with another secret)
  headers  extra request headers; they replace Content-Type or the signature when named
  expect   httpStatus and/or outcome; without it, any 2xx passes

Example:
  messente-dlr scenario --url http://127.0.0.1:3000/messente/dlr --secret s3cret`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        url: { type: 'string' },
        account: { type: 'string' },
        secret: { type: 'string' },
        track: { type: 'string' },
      },
      1,
    );
    const url = accountUrl(requireUrl(values.url), values.account);
    const file = positionals[0];
    const source = file ?? 'built-in scenario';
    const scenario: Scenario =
      file === undefined
        ? checkScenario(BUILTIN_SCENARIO, source)
        : parseScenario(await readInputText(file, MAX_SCENARIO_BYTES), file);
    const track = values.track === undefined ? null : requireUrl(values.track, '--track');
    if (track && scenario.sends.length === 0) throw new UsageError(`--track: ${source} has no "sends"`);
    const answers = buildSendAnswers(scenario.sends);
    const reports = buildReports(scenario, source, answers);
    const secret = optionalSecret(values.secret, io.env);
    if (secret === null && scenario.steps.some((step) => step.sign === 'valid')) {
      throw new UsageError(`missing --secret (or set MESSENTE_API_PASSWORD): ${source} has signed steps`);
    }

    const sends = track ? await trackSends(track, scenario.sends, answers) : [];

    return runSendLoop(io, {
      url,
      items: scenario.steps,
      json: values.json === true,
      async send(step, index): Promise<StepResult> {
        const report = reports[index]!;
        const answer = await postReport(url, JSON.stringify(report), step.sign, secret, step.headers);
        const outcome = answerOutcome(answer.body);
        const problem = unmetExpectation(step.expect, answer.status, outcome);
        return {
          index: index + 1,
          name: step.name,
          signed: step.sign,
          report,
          httpStatus: answer.status,
          outcome,
          body: answerText(answer.body, Infinity),
          expect: step.expect,
          ok: problem === null,
          problem,
        };
      },
      passed: (result) => result.ok,
      label: (_step, index) => `step ${index + 1}`,
      printAfter: ({ results }) => printTable(new Printer(io), url, source, scenario.steps, results),
      document: ({ ok, results, error }) => {
        const passed = results.filter((result) => result.ok).length;
        return {
          url: url.href,
          account: values.account ?? null,
          scenario: source,
          ok,
          passed,
          failed: scenario.steps.length - passed,
          steps: results,
          sends,
          error,
        };
      },
    });
  },
};

/** What one step sent and got, as `--json` prints it. */
interface StepResult {
  readonly index: number;
  readonly name: string | null;
  readonly signed: ScenarioStep['sign'];
  readonly report: Record<string, unknown>;
  readonly httpStatus: number;
  readonly outcome: string | null;
  readonly body: string;
  readonly expect: ScenarioExpectation | null;
  readonly ok: boolean;
  readonly problem: string | null;
}

/** Why an answer does not meet a step's expectation, or null when it does. */
function unmetExpectation(
  expect: ScenarioExpectation | null,
  httpStatus: number,
  outcome: string | null,
): string | null {
  if (expect?.httpStatus === undefined && !isSuccess(httpStatus))
    return `expected a 2xx answer, got ${httpStatus}`;
  if (expect?.httpStatus !== undefined && expect.httpStatus !== httpStatus) {
    return `expected HTTP ${expect.httpStatus}, got ${httpStatus}`;
  }
  if (expect?.outcome !== undefined && expect.outcome !== outcome) {
    return `expected outcome ${expect.outcome}, got ${outcome ?? 'none'}`;
  }
  return null;
}

function expectationText(expect: ScenarioExpectation | null): string {
  if (!expect || (expect.httpStatus === undefined && expect.outcome === undefined)) return '2xx';
  return [expect.httpStatus, expect.outcome].filter((part) => part !== undefined).join(' ');
}

function printTable(
  printer: Printer,
  url: URL,
  source: string,
  steps: readonly ScenarioStep[],
  results: readonly StepResult[],
): void {
  printer.line(`Scenario: ${source} -> POST ${url.href}`);
  printer.line();
  const short = (value: unknown) => String(value ?? '').slice(0, 8);
  const rows = results.map((result) => [
    String(result.index),
    result.name ?? '',
    short(result.report['omnimessage_id']),
    short(result.report['message_id']),
    String(result.report['channel'] ?? ''),
    String(result.report['status'] ?? ''),
    result.signed === 'valid' ? 'yes' : result.signed === 'none' ? 'no' : 'wrong',
    `${result.httpStatus}${result.outcome ? ` ${result.outcome}` : ''}`,
    expectationText(result.expect),
    result.ok ? 'ok' : 'FAIL',
  ]);
  printer.table(
    ['#', 'step', 'omnimessage', 'message', 'channel', 'status', 'signed', 'answer', 'expected', ''],
    rows,
    (cells, index) => {
      const last = cells.length - 1;
      cells[last] = printer.paint(results[index]!.ok ? 'green' : 'red', cells[last]!);
      return cells;
    },
  );
  printer.line();
  for (const result of results) {
    if (!result.ok)
      printer.line(
        printer.paint(
          'red',
          `step ${result.index}: ${escapeControl(`${result.problem}: ${answerText(Buffer.from(result.body))}`)}`,
        ),
      );
  }
  const summary = `${results.filter((result) => result.ok).length} of ${steps.length} steps as expected`;
  printer.line(
    printer.paint(results.length === steps.length && results.every((r) => r.ok) ? 'green' : 'red', summary),
  );
}

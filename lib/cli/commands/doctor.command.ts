import { parseArgs } from 'node:util';
import { SIGNATURE_HEADER } from '../../messente-dlr.constants.js';
import { dlrPayload } from '../../testing/dlr-payload.js';
import { signDlr } from '../../testing/sign-dlr.js';
import { DLR_TEST_REPORT_ANSWER, DLR_TEST_REPORT_FIELD } from '../../utils/dlr-test-report.js';
import type { CliCommand } from '../cli-command.js';
import { Printer, printJson, type CliIo } from '../cli-io.js';
import {
  diagnoseAnswer,
  jsonRewritten,
  signatureNotChecked,
  unreachable,
  wrongSecret,
  type Diagnosis,
} from '../doctor-diagnosis.js';
import { UnreachableError, answerOutcome, answerText, isSuccess, type HttpAnswer } from '../http-send.js';
import { COMMON_OPTIONS, parseCommandArgs, requireSecret, requireUrl } from '../parse-command-args.js';
import { postReport, type Signing } from '../webhook-request.js';

/** `messente-dlr doctor --url URL`: would Messente's reports be accepted, and if not, why. */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'check a running webhook and name the cause of each failure',
  help: `Usage: messente-dlr doctor --url URL [--secret S] [--json]

Checks a running webhook the way Messente will use it: a signed report must be accepted
(compact JSON as Messente sends it, and the same JSON spaced out), and a tampered body, a missing and
a wrong signature must be refused. For each failure it names the likely cause: nothing
listening, wrong path or global prefix, source IP or trust proxy, rawBody not enabled, wrong
secret, a proxy that rewrites the JSON or the Content-Type, signatures not checked.
Exit code 0 when every check passes, 1 otherwise.

Doctor's reports are signed test reports ("${DLR_TEST_REPORT_FIELD}": true in the signed body):
nestjs-messente-dlr answers them 200 {"outcome":"test"} without recording them or calling
any handler, so doctor is safe to run against production.

Options:
  --url URL     the webhook's full URL, e.g. https://example.com/api/messente/dlr
  --secret S    the API key's password the app verifies with (default: MESSENTE_API_PASSWORD)
  --json        print one JSON document
  -h, --help    show this help

Example:
  messente-dlr doctor --url http://127.0.0.1:3000/messente/dlr --secret s3cret`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(
      () =>
        parseArgs({
          args,
          options: { ...COMMON_OPTIONS, url: { type: 'string' }, secret: { type: 'string' } },
          strict: true,
          allowPositionals: false,
        }),
      0,
    );
    const url = requireUrl(values.url);
    const secret = requireSecret(values.secret, io.env, 'doctor signs its test reports');
    const doctor = new Doctor(url, secret);
    const checks = await doctor.run();
    const ok = checks.every((check) => check.result !== 'fail');
    if (values.json) {
      printJson(io, {
        url: url.href,
        ok,
        checks: checks.map(({ diagnosis, ...check }) => ({
          ...check,
          cause: diagnosis?.cause ?? null,
          title: diagnosis?.title ?? null,
          advice: diagnosis?.advice ?? null,
        })),
        messageIds: doctor.messageIds,
      });
    } else {
      printReport(new Printer(io), url, checks);
    }
    return ok ? 0 : 1;
  },
};

/** One of doctor's checks and what came of it. */
interface CheckResult {
  readonly name: string;
  readonly result: 'ok' | 'fail' | 'skip';
  readonly httpStatus: number | null;
  readonly answer: string | null;
  readonly note: string | null;
  readonly diagnosis: Diagnosis | null;
}

type Layout = 'compact' | 'spaced';

/** A request's answer, or the reason none came. */
type Sent = { readonly answer: HttpAnswer; readonly bytes: number } | { readonly unreachable: string };

/** Runs the checks in order; later ones only when what they test can be seen. */
class Doctor {
  readonly messageIds: string[] = [];
  private readonly checks: CheckResult[] = [];

  constructor(
    private readonly url: URL,
    private readonly secret: string,
  ) {}

  async run(): Promise<CheckResult[]> {
    const signed = await this.send(this.body('compact'), 'valid');
    if ('unreachable' in signed) return this.stop(SIGNED, signed);
    const spaced =
      isSuccess(signed.answer.status) || signed.answer.status === 401
        ? await this.send(this.body('spaced'), 'valid')
        : null;
    const notFound = signed.answer.status === 404 || signed.answer.status === 405;
    this.judgeSigned(signed, spaced, notFound ? await this.findWebhook() : null);
    if (spaced && 'unreachable' in spaced) return this.stop(SPACED, spaced);
    if (spaced) this.judgeSpaced(signed, spaced);
    else this.skip(SPACED);

    const accepted = [signed, spaced].find(
      (sent) => sent && 'answer' in sent && isSuccess(sent.answer.status),
    );
    if (!accepted) {
      for (const name of REFUSALS) this.skip(name);
      return this.checks;
    }
    // Forged reports in a layout the way in is known to keep intact.
    const layout: Layout = accepted === signed ? 'compact' : 'spaced';
    const original = this.report();
    const tampered = serialise({ ...original, status: 'UNDELIV' }, layout);
    const forgeries: Array<[string, () => Promise<Sent>, string]> = [
      [
        REFUSALS[0],
        () =>
          this.send(tampered, 'none', {
            [SIGNATURE_HEADER]: signDlr(serialise(original, layout), this.secret),
          }),
        'a body that does not match its signature',
      ],
      [REFUSALS[1], () => this.send(this.body(layout), 'none'), 'no signature'],
      [REFUSALS[2], () => this.send(this.body(layout), 'wrong'), 'a signature made with another secret'],
    ];
    for (const [name, send, what] of forgeries) {
      const sent = await send();
      if ('unreachable' in sent) return this.stop(name, sent);
      const refused = sent.answer.status === 401;
      this.add(
        name,
        refused ? 'ok' : 'fail',
        sent.answer,
        null,
        refused
          ? null
          : isSuccess(sent.answer.status)
            ? signatureNotChecked(what)
            : diagnoseAnswer(sent.answer, this.url, sent.bytes),
      );
    }
    return this.checks;
  }

  private judgeSigned(
    signed: Extract<Sent, { answer: HttpAnswer }>,
    spaced: Sent | null,
    found: string | null,
  ): void {
    const { answer } = signed;
    if (isSuccess(answer.status)) {
      const outcome = answerOutcome(answer.body);
      const note =
        outcome === DLR_TEST_REPORT_ANSWER.outcome
          ? null
          : `answered ${answerText(answer.body) || 'nothing'}, not {"outcome":"test"}: this endpoint did not ` +
            "recognise doctor's test report (an older nestjs-messente-dlr, or another handler), so it may have recorded it";
      this.add(SIGNED, 'ok', answer, note, null);
      return;
    }
    let diagnosis: Diagnosis;
    if (answer.status !== 401) diagnosis = diagnoseAnswer(answer, this.url, signed.bytes, found);
    else if (spaced && 'answer' in spaced && isSuccess(spaced.answer.status)) {
      diagnosis = jsonRewritten('spaced-out', 'compact');
    } else diagnosis = wrongSecret();
    this.add(SIGNED, 'fail', answer, null, diagnosis);
  }

  private judgeSpaced(signed: Sent, spaced: Extract<Sent, { answer: HttpAnswer }>): void {
    const { answer } = spaced;
    if (isSuccess(answer.status)) return this.add(SPACED, 'ok', answer, null, null);
    const signedOk = 'answer' in signed && isSuccess(signed.answer.status);
    const diagnosis =
      answer.status !== 401
        ? diagnoseAnswer(answer, this.url, spaced.bytes)
        : signedOk
          ? jsonRewritten('compact', 'spaced-out')
          : wrongSecret();
    this.add(SPACED, 'fail', answer, null, diagnosis);
  }

  /**
   * After a 404, where the webhook is instead: the path without its first segment, under
   * /api, or the default path. Each try is a signed test report, so it records nothing.
   */
  private async findWebhook(): Promise<string | null> {
    const segments = this.url.pathname.split('/').filter(Boolean);
    const candidates = new Set([
      `/${segments.slice(1).join('/')}`,
      `/api/${segments.join('/')}`,
      '/messente/dlr',
      '/api/messente/dlr',
    ]);
    candidates.delete(`/${segments.join('/')}`);
    candidates.delete('/');
    for (const path of candidates) {
      const candidate = new URL(this.url);
      candidate.pathname = path;
      const sent = await this.send(this.body('compact'), 'valid', {}, candidate);
      if ('unreachable' in sent) return null;
      if (sent.answer.status !== 404 && sent.answer.status !== 405) {
        return `${candidate.href} (it answered ${sent.answer.status})`;
      }
    }
    return null;
  }

  /** A fresh signed test report: valid, with new ids, marked so that the module records nothing. */
  private report(): Record<string, unknown> {
    const report = dlrPayload({ [DLR_TEST_REPORT_FIELD]: true });
    this.messageIds.push(report['message_id'] as string);
    return report;
  }

  private body(layout: Layout): string {
    return serialise(this.report(), layout);
  }

  private async send(
    body: string,
    signing: Signing,
    headers: Record<string, string> = {},
    url = this.url,
  ): Promise<Sent> {
    try {
      return {
        answer: await postReport(url, body, signing, this.secret, headers),
        bytes: Buffer.byteLength(body),
      };
    } catch (error) {
      if (error instanceof UnreachableError) return { unreachable: error.message };
      throw error;
    }
  }

  private add(
    name: string,
    result: 'ok' | 'fail',
    answer: HttpAnswer,
    note: string | null,
    diagnosis: Diagnosis | null,
  ): void {
    this.checks.push({
      name,
      result,
      httpStatus: answer.status,
      answer: answerText(answer.body),
      note,
      diagnosis,
    });
  }

  private skip(name: string): void {
    this.checks.push({ name, result: 'skip', httpStatus: null, answer: null, note: null, diagnosis: null });
  }

  /** Nothing answered: the check fails, and every check not run yet is skipped. */
  private stop(name: string, sent: { unreachable: string }): CheckResult[] {
    this.checks.push({
      name,
      result: 'fail',
      httpStatus: null,
      answer: null,
      note: null,
      diagnosis: unreachable(sent.unreachable),
    });
    for (const later of CHECKS) if (!this.checks.some((check) => check.name === later)) this.skip(later);
    return this.checks;
  }
}

const SIGNED = 'signed report';
const SPACED = 'signed report, spaced-out JSON';
const REFUSALS = [
  'tampered body is refused',
  'missing signature is refused',
  'wrong signature is refused',
] as const;
const CHECKS = [SIGNED, SPACED, ...REFUSALS];

/**
 * Compact JSON as Messente sends it, or the same report with a space after each `:` and `,`
 * (as Python's json.dumps writes it), the layout a re-serialising gateway is likeliest to make.
 */
function serialise(report: Record<string, unknown>, layout: Layout): string {
  return layout === 'compact' ? JSON.stringify(report) : spacedJson(report);
}

function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spacedJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(
      ([key, field]) => `${JSON.stringify(key)}: ${spacedJson(field)}`,
    );
    return `{${fields.join(', ')}}`;
  }
  return JSON.stringify(value);
}

function printReport(printer: Printer, url: URL, checks: readonly CheckResult[]): void {
  printer.line(`Checking POST ${url.href}`);
  printer.line();
  const width = Math.max(...checks.map((check) => check.name.length));
  const explained = new Set<string>();
  for (const check of checks) {
    const mark = {
      ok: printer.paint('green', 'ok  '),
      fail: printer.paint('red', 'FAIL'),
      skip: printer.paint('dim', 'skip'),
    }[check.result];
    const answer = check.httpStatus === null ? '' : `${check.httpStatus} ${check.answer ?? ''}`.trimEnd();
    printer.line(`${mark}  ${check.name.padEnd(width)}  ${answer}`.trimEnd());
    if (check.note) printer.line(printer.paint('yellow', `      note: ${check.note}`));
    if (check.diagnosis && !explained.has(check.diagnosis.cause)) {
      explained.add(check.diagnosis.cause);
      printer.line(printer.paint('yellow', `      cause: ${check.diagnosis.title}`));
      printer.line(`      ${check.diagnosis.advice}`);
    }
  }
  printer.line();
  const failed = checks.filter((check) => check.result === 'fail').length;
  if (failed === 0) {
    printer.line(
      printer.paint(
        'green',
        `All ${checks.length} checks passed: Messente's signed reports would be accepted, forged ones refused.`,
      ),
    );
    // Only the module's {"outcome":"test"} answer shows that nothing was recorded.
    if (checks.every((check) => check.note === null)) {
      printer.line(
        printer.paint(
          'dim',
          'The app answered them as test reports: nothing was recorded, no handler was called.',
        ),
      );
    }
  } else {
    const skipped = checks.filter((check) => check.result === 'skip').length;
    printer.line(
      printer.paint('red', `${failed} check${failed === 1 ? '' : 's'} failed`) +
        (skipped ? `, ${skipped} skipped until ${failed === 1 ? 'it passes' : 'they pass'}.` : '.'),
    );
  }
}

import { SIGNATURE_HEADER } from '../../messente-dlr.constants.js';
import { dlrPayload } from '../../testing/dlr-payload.js';
import { signDlr } from '../../testing/sign-dlr.js';
import { DLR_TEST_REPORT_ANSWER, DLR_TEST_REPORT_FIELD } from '../../payload/dlr-test-report.js';
import {
  diagnoseAnswer,
  jsonRewritten,
  signatureNotChecked,
  unreachable,
  wrongSecret,
  type Diagnosis,
} from './doctor-diagnosis.js';
import { diagnoseSourceIp, readSeenIp, type BoardAccess, type SeenIp } from './doctor-source-ip.js';
import { UnreachableError, type HttpAnswer } from '../shared/http-send.js';
import { answerOutcome, answerText, isSuccess } from '../shared/http-answer.js';
import { postReport, type Signing } from '../shared/webhook-request.js';

/** One of doctor's checks and what came of it. */
export interface CheckResult {
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

/**
 * Runs doctor's checks in order, each later one only when what it tests can be seen (a
 * refusal means nothing while signed reports do not get through).
 */
export class Doctor {
  /** The message_id of every report doctor sent, so that a test can look them up. */
  readonly messageIds: string[] = [];
  private readonly checks: CheckResult[] = [];

  constructor(
    private readonly url: URL,
    private readonly secret: string,
    /** Where doctor reads the address the app saw after a 403 (`--board`), or null. */
    private readonly board: BoardAccess | null = null,
    /** `--account`: the last segment of `url`, kept last in every path doctor guesses. */
    private readonly account: string | null = null,
  ) {}

  /** Runs every check against the webhook; resolves with their results, in order. */
  async run(): Promise<CheckResult[]> {
    const sentAt = Date.now();
    const signed = await this.send(this.body('compact'), 'valid');
    if ('unreachable' in signed) return this.stop(SIGNED, signed);
    // Read at once, before any other request: the newest IP refusal is then doctor's.
    const seen = signed.answer.status === 403 && this.board ? await readSeenIp(this.board, sentAt) : null;
    const spaced =
      isSuccess(signed.answer.status) || signed.answer.status === 401
        ? await this.send(this.body('spaced'), 'valid')
        : null;
    const notFound = signed.answer.status === 404 || signed.answer.status === 405;
    this.judgeSigned(signed, spaced, notFound ? await this.findWebhook() : null, seen);
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
    seen: SeenIp | null,
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
    if (answer.status === 403) diagnosis = diagnoseSourceIp(answer, seen);
    else if (answer.status !== 401) diagnosis = diagnoseAnswer(answer, this.url, signed.bytes, found);
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
   * /api, or the default path, each followed by the account with `--account`. Each try is a
   * signed test report, so it records nothing.
   */
  private async findWebhook(): Promise<string | null> {
    const segments = this.url.pathname.split('/').filter(Boolean);
    // The account's segment is not part of the path being guessed: it stays last.
    const tail = this.account === null ? '' : `/${segments.pop() ?? ''}`;
    const candidates = new Set([
      `/${segments.slice(1).join('/')}`,
      `/api/${segments.join('/')}`,
      '/messente/dlr',
      '/api/messente/dlr',
    ]);
    candidates.delete(`/${segments.join('/')}`);
    if (tail === '') candidates.delete('/');
    for (const path of candidates) {
      const candidate = new URL(this.url);
      candidate.pathname = `${path === '/' ? '' : path}${tail}` || '/';
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

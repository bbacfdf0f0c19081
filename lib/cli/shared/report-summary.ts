import { timingSafeEqual } from 'node:crypto';
import { signDlr } from '../../testing/sign-dlr.js';

/** The fields of a report worth a line of output; null when the body is not a JSON object. */
export interface ReportSummary {
  readonly status: string | null;
  readonly messageId: string | null;
  readonly omnimessageId: string | null;
  readonly channel: string | null;
}

/** Reads status and ids from a request body, whatever it holds. */
export function summarizeReport(body: Buffer): ReportSummary | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const report = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof report[key] === 'string' ? (report[key] as string) : null);
  return {
    status: text('status'),
    messageId: text('message_id'),
    omnimessageId: text('omnimessage_id'),
    channel: text('channel'),
  };
}

/** Whether a request's X-Messente-Signature is right for its body. */
export type SignatureVerdict = 'valid' | 'invalid' | 'missing' | 'unchecked';

/** Checks a signature header against the body; `unchecked` when no secret was given. */
export function signatureVerdict(
  header: string | undefined,
  body: Buffer,
  secret: string | null,
): SignatureVerdict {
  const given = header?.trim().toLowerCase() ?? '';
  if (given === '') return 'missing';
  if (secret === null) return 'unchecked';
  const expected = Buffer.from(signDlr(body, secret), 'utf8');
  const actual = Buffer.from(given, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? 'valid' : 'invalid';
}

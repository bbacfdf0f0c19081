import { timingSafeEqual } from 'node:crypto';
import { signDlr } from '../../testing/sign-dlr.js';

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

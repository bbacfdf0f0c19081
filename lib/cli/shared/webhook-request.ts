import { SIGNATURE_HEADER } from '../../messente-dlr.constants.js';
import { signDlr } from '../../testing/sign-dlr.js';
import { sendHttp, type HttpAnswer } from './http-send.js';

/** How a request is signed: with the secret, not at all, or with a secret that is not it. */
export type Signing = 'valid' | 'none' | 'wrong';

/** A secret no one configures, for a signature that is well-formed but wrong. */
const WRONG_SECRET = 'messente-dlr-cli: not the secret';

/**
 * Posts `body` to a webhook as Messente does: `Content-Type: application/json` and, unless
 * `signing` is `none`, an `X-Messente-Signature` over exactly these bytes. `headers` are
 * added last, so a step can replace any of them.
 */
export function postReport(
  url: URL,
  body: string | Buffer,
  signing: Signing,
  secret: string | null,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpAnswer> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const sent: Record<string, string> = { 'content-type': 'application/json' };
  if (signing === 'valid') {
    if (secret === null) throw new Error('a signed report needs a secret');
    sent[SIGNATURE_HEADER] = signDlr(bytes, secret);
  } else if (signing === 'wrong') {
    sent[SIGNATURE_HEADER] = signDlr(bytes, WRONG_SECRET);
  }
  for (const [name, value] of Object.entries(headers)) sent[name.toLowerCase()] = value;
  return sendHttp(url, { headers: sent, body: bytes });
}

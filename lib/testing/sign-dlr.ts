import { createHmac } from 'node:crypto';

/**
 * The `X-Messente-Signature` value for a callback body: lowercase hex HMAC-SHA256 of the raw
 * bytes, keyed with the API password. Sign exactly the bytes you send.
 */
export function signDlr(rawBody: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

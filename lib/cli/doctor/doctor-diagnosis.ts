import { diagnoseSourceIp } from './doctor-source-ip.js';
import { answerText, isRedirect } from '../shared/http-answer.js';
import type { HttpAnswer } from '../shared/http-send.js';

/** A likely cause of a failed check: a stable key (for `--json`) and what to do about it. */
export interface Diagnosis {
  readonly cause: DoctorCause;
  /** A short name of the cause, e.g. "wrong path or global prefix". */
  readonly title: string;
  /** What doctor saw and what to change. */
  readonly advice: string;
  /** For a 403: the address the app saw, when doctor could read it (`--board`). */
  readonly ipSeen?: string;
}

/** Every cause doctor can name. */
export type DoctorCause =
  | 'not_listening'
  | 'path_or_prefix'
  | 'source_ip'
  | 'ip_not_allowed'
  | 'trust_proxy'
  | 'raw_body'
  | 'secret'
  | 'json_rewritten'
  | 'content_type'
  | 'signature_not_checked'
  | 'body_too_large'
  | 'invalid_body'
  | 'store_unavailable'
  | 'redirect'
  | 'app_error'
  | 'unexpected_answer';

const RAW_BODY_MESSAGE = /raw request body is not available|rawBody/i;

/** The cause of a network failure: nothing answered at all. */
export function unreachable(reason: string): Diagnosis {
  return {
    cause: 'not_listening',
    title: 'nothing listening',
    advice: `${reason}. Is the app running, on this host and port? (app.listen(port) and the URL must agree)`,
  };
}

/** A signed, valid report was refused with 401 although doctor signed it with the secret. */
export function wrongSecret(): Diagnosis {
  return {
    cause: 'secret',
    title: 'wrong secret',
    advice:
      'a correctly signed report was refused (401) both as compact and as spaced-out JSON: the app checks signatures with ' +
      'another secret. Use the password of the API key that sends the messages (with several keys, list ' +
      'each in signatureSecrets) and pass the same one to doctor (--secret or MESSENTE_API_PASSWORD). ' +
      'Less likely: a proxy in front of the app re-encodes the JSON body',
  };
}

/** One JSON layout of the same signed report passed and another got 401. */
export function jsonRewritten(passed: string, refused: string): Diagnosis {
  return {
    cause: 'json_rewritten',
    title: 'a proxy rewrites the JSON',
    advice:
      `the ${passed} report was accepted but the same report as ${refused} JSON got 401: something between ` +
      'here and the module (an API gateway, a serverless adapter, a middleware) parses and re-serialises the ' +
      'body, so the signature no longer matches the bytes Messente signed. Forward the raw body unchanged',
  };
}

/** Doctor's forged report was accepted: the module does not check signatures. */
export function signatureNotChecked(what: string): Diagnosis {
  return {
    cause: 'signature_not_checked',
    title: 'signatures are not checked',
    advice:
      `a report with ${what} was accepted: the module has no secret, so any Messente customer (anyone, with ` +
      'allowedIps: false) can post reports about your messages. Set signatureSecrets or credentials in ' +
      'MessenteDlrModule.forRoot',
  };
}

/**
 * The likely cause of an answer that is not what a valid report should get. `found` is
 * where doctor found the webhook instead, when the URL's path answered 404.
 */
export function diagnoseAnswer(
  answer: HttpAnswer,
  url: URL,
  bodyBytes: number,
  found: string | null = null,
): Diagnosis {
  const status = answer.status;
  const text = answerText(answer.body);
  if (status === 404 || status === 405) {
    return {
      cause: 'path_or_prefix',
      title: 'wrong path or global prefix',
      advice:
        `nothing handles POST ${url.pathname} (${status}). The webhook's path is the app's global prefix ` +
        "plus the module's path option ('messente/dlr' by default), e.g. /api/messente/dlr after " +
        "app.setGlobalPrefix('api'). " +
        (found
          ? `A webhook answers at ${found}: use that URL`
          : 'Check the URL, the path option and setGlobalPrefix'),
    };
  }
  if (status === 403) return diagnoseSourceIp(answer, null);
  if (status === 500 && RAW_BODY_MESSAGE.test(text)) {
    return {
      cause: 'raw_body',
      title: 'raw body not enabled (rawBody: true)',
      advice:
        'the module cannot see the raw request body, so it cannot verify any signature and refuses every ' +
        'report. Create the app with NestFactory.create(AppModule, { rawBody: true }) (also with a ' +
        'FastifyAdapter), and register no JSON body parser of your own before it',
    };
  }
  if (status === 415) {
    return {
      cause: 'content_type',
      title: 'Content-Type changed on the way',
      advice:
        'doctor sent Content-Type: application/json, as Messente does, and the app answered 415: a proxy or ' +
        'middleware in front of the module changes the Content-Type header, or a body parser of your own ' +
        'does not take application/json',
    };
  }
  if (status === 413) {
    return {
      cause: 'body_too_large',
      title: 'body size limit',
      advice: `a ${bodyBytes}-byte report was refused as too large: a proxy or body-size limit in front of the app`,
    };
  }
  if (status === 400) {
    return {
      cause: 'invalid_body',
      title: 'report refused as invalid',
      advice:
        `a valid report was refused (${text}): a proxy or middleware alters the body, or a global pipe or ` +
        'guard of the app rejects it',
    };
  }
  if (status === 503) {
    return {
      cause: 'store_unavailable',
      title: 'store unavailable',
      advice: `the app cannot record reports (${text}): is its store (Redis, PostgreSQL) up?`,
    };
  }
  if (isRedirect(status)) {
    const location = answer.headers.location ?? '(none)';
    return {
      cause: 'redirect',
      title: 'the URL redirects',
      advice:
        `the URL answers ${status} with Location ${location}: Messente counts 3xx as delivered, so its reports ` +
        'would never reach the module. Use the final URL (https, trailing slash) as dlr_url',
    };
  }
  if (status >= 500) {
    return {
      cause: 'app_error',
      title: 'the app failed',
      advice: `the app answered ${status} (${text}); its log says why`,
    };
  }
  return {
    cause: 'unexpected_answer',
    title: `unexpected answer ${status}`,
    advice: `a valid signed report got ${status} (${text})`,
  };
}

import { STATUS_CODES } from 'node:http';

const MAX_DETAIL_LENGTH = 200;

/** The fields of a `MessenteApiError`; see the class for their meaning. */
export interface MessenteApiErrorInit {
  status: number | null;
  code: string | null;
  title: string | null;
  detail: string | null;
  retryAfterMs?: number | null;
  cause?: unknown;
}

/**
 * Messente's status query API refused or failed a request: an error answer (4xx, or 5xx/429
 * after the last retry), an unexpected body, a network error or a timeout.
 */
export class MessenteApiError extends Error {
  override readonly name = 'MessenteApiError';
  /** HTTP status of the answer, or null when none came (network error, timeout). */
  readonly status: number | null;
  /** Messente's error code, a string such as `"101"` (not found) or `"103"` (unauthorized); null when absent. */
  readonly code: string | null;
  /** Short title: Messente's own, else the HTTP status text, else `'timeout'` / `'network error'`. */
  readonly title: string | null;
  /** Details: Messente's own, else the start of the body or the network error's message. */
  readonly detail: string | null;
  /** How long a 429 or 503 answer asked to wait before trying again (`Retry-After`), in ms; null otherwise. */
  readonly retryAfterMs: number | null;

  constructor(init: MessenteApiErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }

  /**
   * Builds the error from an HTTP answer, reading Messente's `{ errors: [{ title, detail, code }] }`
   * body when it has that shape (it does for 401 and 404; proxies and 5xx may send anything).
   */
  static fromResponse(
    status: number,
    statusText: string | undefined,
    body: unknown,
    retryAfterMs: number | null = null,
  ): MessenteApiError {
    const first = firstMessenteError(body);
    return new MessenteApiError({
      status,
      code: first ? stringish(first['code']) : null,
      title: (first && stringish(first['title'])) || statusText || STATUS_CODES[status] || null,
      detail: (first && stringish(first['detail'])) || bodyExcerpt(body),
      retryAfterMs,
    });
  }

  /** Builds the error for a request that got no answer at all. */
  static fromNoResponse(
    title: 'timeout' | 'network error',
    detail: string,
    cause?: unknown,
  ): MessenteApiError {
    return new MessenteApiError({
      status: null,
      code: null,
      title,
      detail,
      cause,
    });
  }
}

function describe(init: MessenteApiErrorInit): string {
  const what = init.status === null ? 'Messente API request failed' : `Messente API answered ${init.status}`;
  const title = init.title ? ` ${init.title}` : '';
  const detail = init.detail ? `: ${init.detail}` : '';
  const code = init.code ? ` (code ${init.code})` : '';
  return `${what}${title}${detail}${code}`;
}

function firstMessenteError(body: unknown): Record<string, unknown> | null {
  if (body === null || typeof body !== 'object') return null;
  const errors = (body as Record<string, unknown>)['errors'];
  if (!Array.isArray(errors)) return null;
  const first: unknown = errors[0];
  return first !== null && typeof first === 'object' ? (first as Record<string, unknown>) : null;
}

// Messente documents `code` as a string, but a number is harmless to accept.
function stringish(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : null;
}

function bodyExcerpt(body: unknown): string | null {
  if (body === null || body === undefined || body === '') return null;
  let text: string;
  if (typeof body === 'string') text = body;
  else if (Buffer.isBuffer(body)) text = body.toString('utf8');
  else {
    try {
      text = JSON.stringify(body);
    } catch {
      text = String(body);
    }
  }
  text = text.trim();
  if (text === '') return null;
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}…` : text;
}

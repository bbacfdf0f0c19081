import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { isAxiosError, type AxiosResponse } from 'axios';
import {
  TimeoutError,
  type Observable,
  catchError,
  defer,
  lastValueFrom,
  map,
  retry,
  tap,
  throwError,
  timeout,
  timer,
} from 'rxjs';
import { MessenteApiError } from '../errors/messente-api.error.js';
import type { DeliveryReport, DeliveryResult } from '../interfaces/delivery-report.interface.js';
import type { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import type { MessenteCredentials } from '../interfaces/messente-dlr-options.interface.js';
import { parseUtcTimestamp } from '../utils/parse-utc-timestamp.js';
import { integerOrNull, stringOrNull, toPriceInfo } from '../payload/payload-fields.js';
import { errorMessage } from '../utils/error-message.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_RETRY_BASE_DELAY_MS = 250;
/**
 * The longest wait before a retry, backoff and `Retry-After` alike: a query (and a reconcile
 * pass waiting on it) must not stall for the minutes or hours a header may ask for.
 */
export const MAX_API_RETRY_DELAY_MS = 30_000;
/** Answers whose `Retry-After` says when to try again (RFC 9110 §10.2.3). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** How `MessenteApiClient` reaches Messente's status query API. */
export interface MessenteApiConfig {
  /** Base URL, e.g. `'https://api.messente.com/v1'`. */
  apiUrl: string;
  /** API key; null refuses every query without a request. */
  credentials: { username: string; password: string } | null;
  /** Upper bound of one attempt, in ms. */
  timeoutMs: number;
  /** Retries after the first attempt, on 5xx, 429, network errors and timeouts. */
  retries: number;
  /** Backoff before the first retry, in ms (doubled for each next one, with jitter). Default 250. */
  retryBaseDelayMs?: number;
  /** The longest wait before a retry, in ms. Default {@link MAX_API_RETRY_DELAY_MS} (30 s). */
  maxRetryDelayMs?: number;
}

/** Which API key a query uses: an account's credentials instead of the configured ones. */
export interface ApiKeyChoice {
  /** The credentials to use; undefined: the configured ones; null: none (the query is refused). */
  credentials?: MessenteCredentials | null;
  /** Whose credentials they are, for the error when there are none. */
  account?: string | null;
}

/**
 * A typed client of Messente's `GET /omnimessage/{id}/status`, with a timeout per attempt,
 * retries with backoff on transient failures and `MessenteApiError` for everything else.
 */
@Injectable()
export class MessenteApiClient {
  constructor(
    private readonly http: HttpService,
    private readonly config: MessenteApiConfig,
    /** Where the queries and their tries are recorded; none when constructed by hand. */
    private readonly telemetry?: DlrTelemetryService,
  ) {}

  /**
   * Asks Messente for the delivery state of every message of an omnimessage, with the
   * configured credentials or those `key` chooses (an account's).
   * @throws TypeError when `omnimessageId` is not a UUID, Error when no credentials are
   * configured (neither sends a request), `MessenteApiError` when the API refused or failed.
   */
  async query(omnimessageId: string, key: ApiKeyChoice = {}): Promise<DeliveryReport> {
    if (typeof omnimessageId !== 'string' || !UUID.test(omnimessageId)) {
      throw new TypeError(`omnimessageId must be a UUID, got ${JSON.stringify(omnimessageId)}`);
    }
    const { timeoutMs } = this.config;
    const credentials = key.credentials === undefined ? this.config.credentials : key.credentials;
    if (!credentials) {
      throw new Error(
        key.account
          ? `Messente credentials are not configured for account "${key.account}": set its \`credentials\``
          : 'Messente credentials are not configured: set `credentials` in MessenteDlrModule options',
      );
    }
    const url = `${this.config.apiUrl.replace(/\/+$/, '')}/omnimessage/${omnimessageId}/status`;
    const telemetry = this.telemetry;

    const attempt$ = defer(() => {
      const started = telemetry?.now() ?? 0;
      return this.http
        .get<unknown>(url, {
          auth: credentials,
          headers: { Accept: 'application/json' },
          // axios's timeout only bounds socket idleness; the rxjs timeout below bounds the whole
          // attempt (a server trickling bytes) and, by unsubscribing, cancels the request.
          timeout: timeoutMs,
          validateStatus: () => true,
        })
        .pipe(
          timeout({ first: timeoutMs }),
          tap({
            next: (response) => telemetry?.apiTried(started, response.status),
            error: (error: unknown) => telemetry?.apiTried(started, null, apiErrorType(error)),
          }),
        );
    }).pipe(
      map((response) => toReport(response, omnimessageId)),
      catchError((error: unknown) => throwError(() => toApiError(error, timeoutMs))),
    );

    const query = () => this.send(attempt$);
    return telemetry ? telemetry.apiQuery(omnimessageId, query) : query();
  }

  private send(attempt$: Observable<DeliveryReport>): Promise<DeliveryReport> {
    const { retries } = this.config;
    return lastValueFrom(
      attempt$.pipe(
        retry({
          count: Math.max(0, retries),
          delay: (error: MessenteApiError, retryCount) =>
            isRetryable(error) ? timer(this.retryDelay(error, retryCount)) : throwError(() => error),
        }),
      ),
    );
  }

  private retryDelay(error: MessenteApiError, retryCount: number): number {
    const max = this.config.maxRetryDelayMs ?? MAX_API_RETRY_DELAY_MS;
    if (error.retryAfterMs !== null) return Math.min(error.retryAfterMs, max);
    const backoff = (this.config.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS) * 2 ** (retryCount - 1);
    // Jitter spreads the retries of many callers failing together (e.g. a reconcile pass).
    return Math.min(backoff / 2 + (Math.random() * backoff) / 2, max);
  }
}

/** The `error.type` of a try that got no answer: `timeout`, axios's error code, or the class name. */
function apiErrorType(error: unknown): string {
  if (error instanceof TimeoutError) return 'timeout';
  if (isAxiosError(error) && error.code) return error.code;
  return error instanceof Error ? error.constructor.name : '_OTHER';
}

function isRetryable(error: MessenteApiError): boolean {
  return error.status === null || error.status === 429 || error.status >= 500;
}

function toReport(response: AxiosResponse<unknown>, omnimessageId: string): DeliveryReport {
  const { status, statusText, data } = response;
  if (status < 200 || status >= 300) {
    throw MessenteApiError.fromResponse(status, statusText, data, retryAfterMs(response));
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw MessenteApiError.fromResponse(status, 'Unexpected response body', data);
  }
  const body = data as Record<string, unknown>;
  const statuses = Array.isArray(body['statuses']) ? (body['statuses'] as unknown[]) : [];
  return {
    omnimessageId: stringOrNull(body['omnimessage_id']) ?? omnimessageId,
    to: stringOrNull(body['to']),
    statuses: statuses.map(toResult),
  };
}

function toResult(value: unknown): DeliveryResult {
  const item = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  return {
    messageId: stringOrNull(item['message_id']),
    status: stringOrNull(item['status']),
    channel: stringOrNull(item['channel']),
    err: integerOrNull(item['err']),
    error: stringOrNull(item['error']),
    timestamp: parseUtcTimestamp(item['timestamp']),
    sender: stringOrNull(item['sender']),
    priceInfo: toPriceInfo(item['price_info']),
  };
}

/**
 * `Retry-After` of a 429 or 503, in ms: delay-seconds (`120`) or an HTTP date
 * (`Fri, 27 Nov 2026 21:00:00 GMT`, a date in the past meaning now); null when absent or
 * unreadable, so that the backoff applies. Capped by the caller.
 */
function retryAfterMs(response: AxiosResponse<unknown>): number | null {
  if (!RETRY_AFTER_STATUSES.has(response.status)) return null;
  const header: unknown = response.headers['retry-after'];
  if (typeof header !== 'string') return null;
  const value = header.trim();
  // RFC 9110: delay-seconds is a non-negative integer; anything else numeric-looking is unreadable.
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/[a-z]/i.test(value)) return null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function toApiError(error: unknown, timeoutMs: number): MessenteApiError {
  if (error instanceof MessenteApiError) return error;
  if (error instanceof TimeoutError) {
    return MessenteApiError.fromNoResponse('timeout', `no answer within ${timeoutMs} ms`, error);
  }
  if (isAxiosError(error) && (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT')) {
    return MessenteApiError.fromNoResponse('timeout', error.message, error);
  }
  const message = errorMessage(error);
  return MessenteApiError.fromNoResponse('network error', message, error);
}

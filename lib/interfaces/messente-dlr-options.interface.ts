import type { DlrStore } from './dlr-store.interface.js';
import type { MessenteDlrAccounts } from './messente-dlr-account.interface.js';

/** Credentials of a Messente HTTP API key. */
export interface MessenteCredentials {
  /** API username. */
  username: string;
  /** API password: also accepted as a signature secret. */
  password: string;
}

/** When the webhook answers Messente. */
export type AcknowledgeMode = 'after-store' | 'after-handlers';

/** Options of `MessenteDlrModule.forRoot()` / `forRootAsync()`. Every field is optional. */
export interface MessenteDlrModuleOptions {
  /** POST route of the webhook, under the global prefix. Default `'messente/dlr'`. */
  path?: string;
  /** IPs and CIDRs (IPv4 and IPv6) allowed to post; `false` turns the check off. Default `MESSENTE_DLR_IPS`. */
  allowedIps?: readonly string[] | false;
  /** Secrets for `X-Messente-Signature`; any one matching is enough. */
  signatureSecrets?: readonly string[];
  /** API key for the status query API; its password is a signature secret too. */
  credentials?: MessenteCredentials;
  /**
   * Several Messente API keys: a list of accounts, or a resolver of them (the webhook then
   * answers at `{path}/:account`). Replaces `signatureSecrets` and `credentials`.
   */
  accounts?: MessenteDlrAccounts;
  /** Accept reports without any check. Required to combine `allowedIps: false` with no secret. */
  insecure?: boolean;
  /** Messente API base URL. Default `'https://api.messente.com/v1'`. */
  apiUrl?: string;
  /** Timeout of one status-API request, in ms. Default 10 000. */
  apiTimeoutMs?: number;
  /** Retries of a status-API request on 5xx, 429 and network errors. Default 3. */
  apiRetries?: number;
  /** Where reports are recorded. Default a new `InMemoryDlrStore()`. */
  store?: DlrStore;
  /** Answer after recording (default) or after every handler ran. */
  acknowledge?: AcknowledgeMode;
  /** Tries of a failing handler per dispatch, the first included. Default 3. */
  handlerAttempts?: number;
  /** Delay before the first handler retry, in ms; each next one is 4× longer. Default 250. */
  handlerRetryDelayMs?: number;
  /** How long a dispatch owns a pending report before another sweep may take it, in ms. Default 60 000. */
  pendingLeaseMs?: number;
  /** Interval of the sweep that dispatches pending reports again, in ms; 0 turns it off. Default 60 000. */
  pendingSweepIntervalMs?: number;
  /** How long application shutdown waits for handlers in flight, in ms. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Also publish each change on `@nestjs/cqrs`'s `EventBus`. Default false. */
  cqrs?: boolean;
  /** Also emit `messente.dlr.<STATUS>` on `@nestjs/event-emitter`'s `EventEmitter2`. Default false. */
  eventEmitter?: boolean;
  /** Poll the API for messages whose latest status is not final; off unless set. */
  reconcile?: ReconcileScheduleOptions;
  /** Outcomes of what the app sends (`DeliveryStatusService.track()`). */
  tracking?: TrackingOptions;
  /**
   * When `@OnDlrAlarm` handlers hear of trouble, judged by each process from what it receives:
   * too many refused requests, silence while tracked sends are pending (off unless
   * `silentForMs` is set), reports whose reason is the account's.
   */
  alarms?: AlarmOptions;
  /**
   * Decorators applied to the webhook controller, e.g. `[Public(), SkipThrottle()]`, so a global
   * auth guard or throttler can exempt it.
   */
  controllerDecorators?: readonly ClassDecorator[];
  /**
   * Record OpenTelemetry metrics and spans (needs `@opentelemetry/api`). Default true; `false`
   * records nothing in OpenTelemetry, while `DeliveryReportStats` keeps counting.
   */
  telemetry?: boolean;
  /** An OpenTelemetry `MeterProvider` to use instead of the global one. */
  meterProvider?: OtelMeterProvider;
  /** An OpenTelemetry `TracerProvider` to use instead of the global one. */
  tracerProvider?: OtelTracerProvider;
}

/**
 * An OpenTelemetry `MeterProvider`, typed by shape so that the options do not need
 * `@opentelemetry/api`'s types (an optional peer).
 */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string, options?: object): unknown;
}

/** An OpenTelemetry `TracerProvider`, typed by shape like `OtelMeterProvider`. */
export interface OtelTracerProvider {
  getTracer(name: string, version?: string, options?: object): unknown;
}

/** Options of one reconciliation pass. */
export interface ReconcileOptions {
  /** Only messages whose latest report was received longer ago than this, in ms. Default 15 min. */
  olderThanMs?: number;
  /** At most this many omnimessages (API requests) per pass. Default 100. */
  limit?: number;
  /** At most this many API requests at once. Default 2. */
  concurrency?: number;
}

/** Periodic reconciliation: one pass every `intervalMs`. */
export interface ReconcileScheduleOptions extends ReconcileOptions {
  /** Interval between passes, in ms. */
  intervalMs: number;
}

/** Module option `tracking`: when outcomes become overdue, and how often that is looked for. */
export interface TrackingOptions {
  /** How long after `track()` a pending outcome becomes overdue, in ms. Default 72 h. */
  overdueAfterMs?: number;
  /** Interval of the sweep that finds overdue outcomes and redispatches outcome changes, in ms; 0 turns it off. Default 60 000. */
  sweepIntervalMs?: number;
}

/** Module option `alarms`: the thresholds of `@OnDlrAlarm`'s `refusals` and `silence` alarms. */
export interface AlarmOptions {
  /**
   * `refusals` is raised when more than this share of the window's requests were refused
   * (from 0 up to, not including, 1). Default 0.5.
   */
  refusalRatio?: number;
  /** Requests the window must hold for `refusals` to be raised, or cleared by a low ratio. Default 10. */
  minRequests?: number;
  /** The window `refusals` is judged over, in ms (1 000 to 3 600 000, counted by the second). Default 300 000. */
  windowMs?: number;
  /**
   * `silence` is raised when omnimessages this process tracked are pending and no report was
   * accepted for this long, in ms. Off unless set.
   */
  silentForMs?: number;
}

import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DeliveryAlarmsService } from '../alarms/delivery-alarms.service.js';
import { HEALTH_REFUSAL_WINDOW_MS } from '../alarms/delivery-alarm-judge.js';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import { DLR_STORE } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';

/** How long the store has to answer, in ms: a health check must answer fast whatever the store does. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** Requests the last 5 minutes must hold before `maxRefusalRatio` judges them. */
export const HEALTH_MIN_REQUESTS = 10;

/** Options of `MessenteDlrHealthIndicator.isHealthy()`. */
export interface MessenteDlrHealthOptions {
  /** Down when more changes than this are pending (handlers not all succeeded). No limit by default. */
  maxPending?: number;
  /**
   * Down when, over the last 5 minutes (fixed, whatever module option `alarms` says), this
   * process answered at least 10 webhook requests and refused more than this share of them
   * (0 to 1). Not judged by default.
   */
  maxRefusalRatio?: number;
  /**
   * Down when omnimessages this process tracked are pending (as the store confirms) and no
   * webhook request was accepted for this long, in ms, nor since the oldest of them was
   * tracked. Not judged by default.
   */
  silentForMs?: number;
}

/** Which check made the indicator down: its details name it as `condition`. */
export type MessenteDlrHealthCondition = 'store' | 'pending' | 'refusals' | 'silence';

/**
 * A `@nestjs/terminus` health indicator for the delivery reports: up with
 * `{ store: 'up', pending }`; down (never throwing), its details naming the `condition`, when
 * - `store`: the store does not answer `ping()` and `countPending()` within 2 s (the message
 *   names the call that failed);
 * - `pending`: more than `maxPending` changes are pending;
 * - `refusals`: over the last 5 minutes at least 10 requests came and more than
 *   `maxRefusalRatio` of them were refused (details: `refusalRatio`, `topRefusalReason`);
 * - `silence`: tracked omnimessages are pending and no report was accepted for `silentForMs`
 *   (details: `silentMs`, `lastReportAt`).
 *
 * Refusals and silence are what this process received, as with `@OnDlrAlarm`. Provide it in
 * the module of your health controller, next to `TerminusModule`; it finds
 * `MessenteDlrModule` anywhere in the app.
 *
 * @example
 * ```ts
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.dlr.isHealthy('messente-dlr', { maxPending: 1_000 })]);
 * }
 * ```
 */
@Injectable()
export class MessenteDlrHealthIndicator {
  private store: DlrStore | undefined;
  private alarms: DeliveryAlarmsService | undefined;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Checks the store, then each condition asked for; resolves to terminus's result under `key`. */
  async isHealthy(
    key = 'messente-dlr',
    options: MessenteDlrHealthOptions = {},
  ): Promise<HealthIndicatorResult> {
    checkOptions(options);
    const indicator = this.indicators.check(key);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    let pending: number;
    let silentMs: number | null | 'unknown' = null;
    try {
      const store = this.dlrStore();
      // One deadline for every call: a store that answers ping() but hangs on countPending()
      // (a slow scan, a lock) must not hang the health check either.
      await beforeDeadline(store.ping(), deadline, 'ping()');
      pending = await beforeDeadline(store.countPending(), deadline, 'countPending()');
      if (options.silentForMs !== undefined) {
        silentMs = await beforeDeadline(this.deliveryAlarms().silentFor(), deadline, 'outcome()');
      }
    } catch (error) {
      return indicator.down({ condition: 'store', store: 'down', message: errorMessage(error) });
    }
    if (options.maxPending !== undefined && pending > options.maxPending) {
      return indicator.down({ condition: 'pending', store: 'up', pending, maxPending: options.maxPending });
    }
    if (options.maxRefusalRatio !== undefined) {
      const { requests, refused, ratio, topReason } =
        this.deliveryAlarms().refusals(HEALTH_REFUSAL_WINDOW_MS);
      if (requests >= HEALTH_MIN_REQUESTS && ratio > options.maxRefusalRatio) {
        return indicator.down({
          condition: 'refusals',
          store: 'up',
          pending,
          requests,
          refused,
          refusalRatio: ratio,
          maxRefusalRatio: options.maxRefusalRatio,
          topRefusalReason: topReason,
        });
      }
    }
    if (typeof silentMs === 'number' && silentMs >= options.silentForMs!) {
      return indicator.down({
        condition: 'silence',
        store: 'up',
        pending,
        silentMs,
        silentForMs: options.silentForMs,
        lastReportAt: this.deliveryAlarms().lastReportAt?.toISOString() ?? null,
      });
    }
    return indicator.up({ store: 'up', pending });
  }

  private dlrStore(): DlrStore {
    this.store ??= this.moduleRef.get<DlrStore>(DLR_STORE, { strict: false });
    return this.store;
  }

  private deliveryAlarms(): DeliveryAlarmsService {
    this.alarms ??= this.moduleRef.get<DeliveryAlarmsService>(DeliveryAlarmsService, { strict: false });
    return this.alarms;
  }
}

/** A wrong option is the caller's bug: it throws rather than reporting the app down. */
function checkOptions({ maxRefusalRatio, silentForMs }: MessenteDlrHealthOptions): void {
  if (maxRefusalRatio !== undefined && !(maxRefusalRatio >= 0 && maxRefusalRatio <= 1)) {
    throw new TypeError(`isHealthy(): maxRefusalRatio must be a number from 0 to 1, got ${maxRefusalRatio}`);
  }
  if (silentForMs !== undefined && !(Number.isFinite(silentForMs) && silentForMs > 0)) {
    throw new TypeError(`isHealthy(): silentForMs must be a positive number of ms, got ${silentForMs}`);
  }
}

/** `promise`, or a rejection naming `call` once `deadline` (ms since the epoch) passes. */
function beforeDeadline<T>(promise: Promise<T>, deadline: number, call: string): Promise<T> {
  return withDeadline(
    promise,
    Math.max(0, deadline - Date.now()),
    () => new Error(`the store did not answer ${call} within ${HEALTH_TIMEOUT_MS} ms`),
  );
}

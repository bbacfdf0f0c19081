import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import { DLR_STORE } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';

/** How long the store has to answer, in ms: a health check must answer fast whatever the store does. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** Options of `MessenteDlrHealthIndicator.isHealthy()`. */
export interface MessenteDlrHealthOptions {
  /** Down when more changes than this are pending (handlers not all succeeded). No limit by default. */
  maxPending?: number;
}

/**
 * A `@nestjs/terminus` health indicator for the delivery-report store: up with
 * `{ store: 'up', pending }`, down (never throwing) when the store does not answer `ping()`
 * and `countPending()` within 2 s (the message names the call that failed) or more than
 * `maxPending` changes are pending. Provide it in the module of
 * your health controller, next to `TerminusModule`; it finds `MessenteDlrModule`'s store
 * anywhere in the app.
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

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Checks the store; resolves to terminus's result under `key`. */
  async isHealthy(
    key = 'messente-dlr',
    options: MessenteDlrHealthOptions = {},
  ): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    let pending: number;
    try {
      const store = this.dlrStore();
      // One deadline for both calls: a store that answers ping() but hangs on countPending()
      // (a slow scan, a lock) must not hang the health check either.
      await beforeDeadline(store.ping(), deadline, 'ping()');
      pending = await beforeDeadline(store.countPending(), deadline, 'countPending()');
    } catch (error) {
      return indicator.down({
        store: 'down',
        message: errorMessage(error),
      });
    }
    if (options.maxPending !== undefined && pending > options.maxPending) {
      return indicator.down({ store: 'up', pending, maxPending: options.maxPending });
    }
    return indicator.up({ store: 'up', pending });
  }

  private dlrStore(): DlrStore {
    this.store ??= this.moduleRef.get<DlrStore>(DLR_STORE, { strict: false });
    return this.store;
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

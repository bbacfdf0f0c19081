import { setTimeout as sleep } from 'node:timers/promises';
import { handlerRetryDelay } from './handler-retry-delay.js';

/** How `callWithRetries` tries a handler, and whom it tells of each failure. */
export interface RetryPolicy {
  /** Tries in all, at least 1. */
  readonly attempts: number;
  /** The base of the backoff between tries (see `handlerRetryDelay`). */
  readonly retryDelayMs: number;
  /** True when no further try should start (the app is shutting down). */
  readonly stopping?: () => boolean;
  /** Called after each failed try; `last` when no try follows. */
  readonly onFailure: (error: unknown, attempt: number, last: boolean) => void;
}

/**
 * Calls a handler until it succeeds or its tries run out, waiting with backoff between tries.
 * Resolves true when a try succeeded, false otherwise; never rejects.
 */
export async function callWithRetries(call: () => unknown, policy: RetryPolicy): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return true;
    } catch (error) {
      const last = attempt >= policy.attempts || (policy.stopping?.() ?? false);
      policy.onFailure(error, attempt, last);
      if (last) return false;
      await sleep(handlerRetryDelay(policy.retryDelayMs, attempt));
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { handlerRetryDelay } from './handler-retry-delay.js';

/** A handler `callWithRetries` can call with an event. */
export interface Callable<E> {
  readonly name: string;
  readonly call: (event: E) => unknown;
}

/**
 * How a dispatcher tries its handlers, and what it records of each try. Made once per
 * dispatcher, not per change: the hot path allocates no closures for it.
 */
export interface RetryPolicy<H extends Callable<E>, E, C, T> {
  /** Tries in all, at least 1. */
  readonly attempts: number;
  /** The base of the backoff between tries (see `handlerRetryDelay`). */
  readonly retryDelayMs: number;
  /** True when no further try should start (the app is shutting down). */
  stopping(): boolean;
  /** A try begins: returns what its end is recorded with (a span, or nothing). */
  start(handler: H, event: E, context: C, attempt: number): T;
  /** The try returned. */
  succeeded(token: T): void;
  /** The try threw; `last` when no try follows. */
  failed(token: T, handler: H, event: E, error: unknown, attempt: number, last: boolean): void;
}

/**
 * Calls a handler until it succeeds or its tries run out, waiting with backoff between tries.
 * Resolves true when a try succeeded, false otherwise; never rejects. `context` is handed to
 * `policy.start` (the status dispatcher's trace parent).
 */
export async function callWithRetries<H extends Callable<E>, E, C, T>(
  policy: RetryPolicy<H, E, C, T>,
  handler: H,
  event: E,
  context: C,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const token = policy.start(handler, event, context, attempt);
    try {
      await handler.call(event);
      policy.succeeded(token);
      return true;
    } catch (error) {
      const last = attempt >= policy.attempts || policy.stopping();
      policy.failed(token, handler, event, error, attempt, last);
      if (last) return false;
      await sleep(handlerRetryDelay(policy.retryDelayMs, attempt));
    }
  }
}

import type { RefusalReason } from '../interfaces/refusal-reason.js';

const REFUSAL = Symbol('messente.dlr.refusal');

/**
 * Marks the exception a refused webhook request is answered with by its reason, where the
 * refusal is decided; `DlrWebhookExceptionFilter` counts it once the answer goes out. Returns
 * the exception, for `throw refusal('…', new XException())`.
 */
export function refusal<E extends Error>(reason: RefusalReason, exception: E): E {
  (exception as E & { [REFUSAL]?: RefusalReason })[REFUSAL] = reason;
  return exception;
}

/** The reason an exception was marked with by `refusal()`, or undefined. */
export function refusalReasonOf(exception: unknown): RefusalReason | undefined {
  return exception !== null && typeof exception === 'object'
    ? (exception as { [REFUSAL]?: RefusalReason })[REFUSAL]
    : undefined;
}

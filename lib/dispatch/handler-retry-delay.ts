/** The longest wait between two tries of a handler, whatever `handlerRetryDelayMs` is. */
export const MAX_HANDLER_RETRY_DELAY_MS = 30_000;

/**
 * How long to wait after a handler's try number `attempt` (1-based) failed: `baseMs`, then ×4
 * for each next try, at most {@link MAX_HANDLER_RETRY_DELAY_MS}. The cap keeps a change from
 * waiting on one handler for hours, and keeps the delay within what a timer accepts (Node
 * fires a timer longer than 2³¹−1 ms at once).
 */
export function handlerRetryDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 4 ** (attempt - 1), MAX_HANDLER_RETRY_DELAY_MS);
}

/**
 * `promise`, or a rejection with `onTimeout()` (default: "no answer within `ms` ms") once `ms`
 * pass first, like terminus's `promiseTimeout`. The timer is cleared as soon as either settles,
 * so that a burst of fast calls leaves no timers behind, and unref'd: a deadline guards a
 * call and is never why the process stays up (what the call waits on, a socket, keeps it up).
 * The promise itself is not cancelled: a caller that must undo a late answer (a pooled
 * connection) attaches that to its own promise.
 */
export function withDeadline<T>(
  promise: PromiseLike<T>,
  ms: number,
  onTimeout: () => unknown = () => new Error(`no answer within ${ms} ms`),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { handlerRetryDelay, MAX_HANDLER_RETRY_DELAY_MS } from '../../lib/dispatch/handler-retry-delay.js';

describe('handlerRetryDelay', () => {
  it('starts at handlerRetryDelayMs and multiplies by 4 for each next try', () => {
    expect([1, 2, 3, 4].map((attempt) => handlerRetryDelay(250, attempt))).toEqual([
      250, 1_000, 4_000, 16_000,
    ]);
  });

  it('never waits more than 30 s', () => {
    expect(MAX_HANDLER_RETRY_DELAY_MS).toBe(30_000);
    expect(handlerRetryDelay(250, 5)).toBe(30_000);
    expect(handlerRetryDelay(250, 60)).toBe(30_000);
    expect(handlerRetryDelay(10 * 60_000, 1)).toBe(30_000);
    expect(handlerRetryDelay(Number.MAX_SAFE_INTEGER, 1_000)).toBe(30_000);
  });

  it('retries at once with a zero base delay', () => {
    expect(handlerRetryDelay(0, 3)).toBe(0);
  });
});

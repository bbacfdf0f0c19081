import { errorMessage } from '../utils/error-message.js';

/**
 * The error a store throws when its server cannot serve a call, which intake turns into a 503
 * (Messente retries later): `RedisDlrStore: Redis is unavailable (reason)`. `reason` defaults
 * to the error's own message; a store passes something better when it has it (the last
 * connection error behind a bare timeout). The original error stays its `cause`.
 */
export function storeUnavailable(
  store: string,
  server: string,
  error: unknown,
  reason: string = errorMessage(error),
): Error {
  return new Error(`${store}: ${server} is unavailable (${reason})`, { cause: error });
}

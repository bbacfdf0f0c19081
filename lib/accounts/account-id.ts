/**
 * The rule of an account id: 1–64 of `A-Z a-z 0-9 . _ -`. Ids travel in URL paths
 * (`{path}/:account`), log lines and store keys, so they hold nothing that needs escaping.
 */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** True when `id` is a string that follows the account id rule. */
export function isAccountId(id: unknown): id is string {
  return typeof id === 'string' && ACCOUNT_ID_PATTERN.test(id);
}

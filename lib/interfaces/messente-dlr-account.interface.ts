import type { MessenteCredentials } from './messente-dlr-options.interface.js';

/**
 * What the app knows of one Messente API key: the secrets its reports are signed with and,
 * for status queries, its credentials. What `accounts.resolve` answers for an id.
 */
export interface MessenteDlrAccountSecrets {
  /** Secrets for `X-Messente-Signature`, newest first during a rotation; any one matching is enough. */
  signatureSecrets: readonly string[];
  /** API key for the status query API; its password is a signature secret too. */
  credentials?: MessenteCredentials;
}

/** One account of the list form of module option `accounts`. */
export interface MessenteDlrAccount extends MessenteDlrAccountSecrets {
  /** The account's id: 1–64 of `A-Z a-z 0-9 . _ -`, unique in the list. */
  id: string;
}

/**
 * The resolver form of module option `accounts`, for apps with many accounts: the webhook is
 * mounted at `{path}/:account` and the path segment names the account whose secrets verify.
 */
export interface MessenteDlrAccountResolver {
  /** The account of an id, or null when there is none (answered 401 `unknown_account`). */
  resolve: (id: string) => Promise<MessenteDlrAccountSecrets | null>;
  /** How long an answer (null included) is kept before `resolve` is asked again, in ms. Default 60 000. */
  cacheTtlMs?: number;
  /** Accounts kept at most, the least recently used dropped first. Default 10 000. */
  maxCached?: number;
  /** How long one `resolve` call may take before the report is refused with 503, in ms. Default 2 000. */
  timeoutMs?: number;
}

/** Module option `accounts`: a list of accounts, or a resolver of them. */
export type MessenteDlrAccounts = readonly MessenteDlrAccount[] | MessenteDlrAccountResolver;

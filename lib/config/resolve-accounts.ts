import { isAccountId } from '../accounts/account-id.js';
import { MessenteDlrConfigError } from '../errors/messente-dlr-config.error.js';
import type {
  MessenteDlrAccountResolver,
  MessenteDlrAccountSecrets,
} from '../interfaces/messente-dlr-account.interface.js';
import type {
  MessenteCredentials,
  MessenteDlrModuleOptions,
} from '../interfaces/messente-dlr-options.interface.js';
import type { ResolvedAccount, ResolvedAccounts } from '../interfaces/resolved-dlr-options.interface.js';
import { optionValidators } from '../utils/option-validators.js';

const { positiveNumber, positiveInteger } = optionValidators((option, problem) => {
  throw new MessenteDlrConfigError(option, problem);
});

/** Fails naming `option`: the problems of secrets and credentials, wherever they were given. */
type Fail = (option: string, problem: string) => never;

const configFail: Fail = (option, problem) => {
  throw new MessenteDlrConfigError(option, problem);
};

/**
 * Validates module option `accounts`; null when it is not given. It replaces the top-level
 * `signatureSecrets` and `credentials`: with both, which secret verifies which account would
 * be a guess, so that fails naming them.
 */
export function resolveAccounts(options: MessenteDlrModuleOptions): ResolvedAccounts | null {
  const accounts = options.accounts;
  if (accounts === undefined) return null;
  const clashing = (['signatureSecrets', 'credentials'] as const).filter(
    (name) => options[name] !== undefined,
  );
  if (clashing.length > 0) {
    throw new MessenteDlrConfigError(
      'accounts',
      `replaces the top-level ${clashing.map((name) => `\`${name}\``).join(' and ')}: ` +
        'give each account its own `signatureSecrets` and `credentials` instead',
    );
  }
  if (Array.isArray(accounts)) return { kind: 'list', list: resolveList(accounts) };
  if (
    accounts === null ||
    typeof accounts !== 'object' ||
    typeof (accounts as { resolve?: unknown }).resolve !== 'function'
  ) {
    throw new MessenteDlrConfigError('accounts', 'must be a list of accounts or `{ resolve }`');
  }
  const resolver = accounts as MessenteDlrAccountResolver;
  return {
    kind: 'resolver',
    resolve: resolver.resolve.bind(resolver),
    cacheTtlMs: positiveNumber('accounts.cacheTtlMs', resolver.cacheTtlMs ?? 60_000),
    maxCached: positiveInteger('accounts.maxCached', resolver.maxCached ?? 10_000),
    timeoutMs: positiveNumber('accounts.timeoutMs', resolver.timeoutMs ?? 2_000),
  };
}

function resolveList(accounts: readonly unknown[]): ResolvedAccount[] {
  if (accounts.length === 0) throw new MessenteDlrConfigError('accounts', 'must hold at least one account');
  const seen = new Set<string>();
  return accounts.map((account, index) => {
    const option = `accounts[${index}]`;
    if (account === null || typeof account !== 'object') configFail(option, 'must be an object');
    const { id } = account as { id?: unknown };
    if (!isAccountId(id)) {
      configFail(`${option}.id`, `must be 1–64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(id)}`);
    }
    if (seen.has(id)) configFail(`${option}.id`, `repeats the id "${id}": ids are unique`);
    seen.add(id);
    return toResolvedAccount(id, account as MessenteDlrAccountSecrets, option, configFail);
  });
}

/**
 * One account's secrets ready for HMAC, in the order `secretsMatched` counts them:
 * `signatureSecrets`, then `credentials.password` when not already listed. An account needs
 * at least one, or no report could ever be its own.
 */
export function toResolvedAccount(
  id: string,
  account: MessenteDlrAccountSecrets,
  option: string,
  fail: Fail,
): ResolvedAccount {
  const credentials = resolveCredentials(account.credentials, `${option}.credentials`, fail);
  const secrets = resolveSecretList(
    account.signatureSecrets,
    credentials,
    `${option}.signatureSecrets`,
    fail,
  );
  if (secrets.length === 0) fail(`${option}.signatureSecrets`, 'must hold at least one secret');
  return { id, secrets, credentials };
}

/** `signatureSecrets` then the password when not listed, checked, as UTF-8 bytes. */
export function resolveSecretList(
  signatureSecrets: readonly string[] | undefined,
  credentials: MessenteCredentials | null,
  option: string,
  fail: Fail = configFail,
): Buffer[] {
  // A lone string would otherwise be spread into one-letter secrets.
  if (signatureSecrets !== undefined && !Array.isArray(signatureSecrets)) {
    fail(option, 'must be an array of strings');
  }
  const secrets: unknown[] = [...(signatureSecrets ?? [])];
  if (credentials?.password) secrets.push(credentials.password);
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret === '')
      fail(`${option}[${index}]`, 'must be a non-empty string');
  });
  return [...new Set(secrets as string[])].map((secret) => Buffer.from(secret, 'utf8'));
}

/** Credentials with both parts, or null when not given. */
export function resolveCredentials(
  credentials: MessenteCredentials | undefined,
  option: string,
  fail: Fail = configFail,
): MessenteCredentials | null {
  if (!credentials) return null;
  if (!credentials.username || !credentials.password) fail(option, 'needs both `username` and `password`');
  return { username: credentials.username, password: credentials.password };
}

import { Inject, Injectable } from '@nestjs/common';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import type { MessenteCredentials } from '../interfaces/messente-dlr-options.interface.js';
import type { ResolvedAccount, ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { AccountResolverCache } from './account-resolver-cache.js';
import { isAccountId } from './account-id.js';

/** One secret of the list form, with whose it is and its position among that account's secrets. */
export interface AccountSecret {
  readonly account: ResolvedAccount;
  readonly position: number;
  readonly secret: Buffer;
}

/**
 * The accounts of module option `accounts`, for the signature guard and the status queries:
 * the list's secrets in order, or the resolver behind its cache; and each account's
 * credentials. Without `accounts`, the top-level `credentials` serve every query.
 */
@Injectable()
export class DlrAccountsService {
  /** The list form's secrets, every account's in list order; empty otherwise. */
  readonly listSecrets: readonly AccountSecret[];
  /** The secrets of `listSecrets` alone, in the same order, for the HMAC loop. */
  readonly listSecretBytes: readonly Buffer[];
  private readonly byId: ReadonlyMap<string, ResolvedAccount>;
  private readonly resolver: AccountResolverCache | null;

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {
    const accounts = options.accounts;
    const list = accounts?.kind === 'list' ? accounts.list : [];
    this.byId = new Map(list.map((account) => [account.id, account]));
    this.listSecrets = list.flatMap((account) =>
      account.secrets.map((secret, position) => ({ account, position, secret })),
    );
    this.listSecretBytes = this.listSecrets.map((entry) => entry.secret);
    this.resolver = accounts?.kind === 'resolver' ? new AccountResolverCache(accounts) : null;
  }

  /** True when the webhook takes the account from the path (`{path}/:account`). */
  get resolves(): boolean {
    return this.resolver !== null;
  }

  /**
   * The account of an id, or null when there is none. The resolver is asked only for an id
   * that follows the id rule. Rejects with `AccountLookupError` when the resolver failed.
   */
  async lookup(id: string): Promise<ResolvedAccount | null> {
    if (!isAccountId(id)) return null;
    if (this.resolver) return this.resolver.lookup(id);
    return this.byId.get(id) ?? null;
  }

  /**
   * Checks an account given to `track()` or a query: null when none was given; a `TypeError`
   * naming `account` when it is not one of the list, breaks the id rule, or no accounts are set.
   */
  checkId(account: unknown): string | null {
    if (account === undefined || account === null) return null;
    if (!this.options.accounts) throw new TypeError('account: module option `accounts` is not set');
    if (!isAccountId(account)) {
      throw new TypeError(`account must be 1–64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(account)}`);
    }
    if (!this.resolver && !this.byId.has(account)) {
      throw new TypeError(`account: "${account}" is not one of module option \`accounts\``);
    }
    return account;
  }

  /**
   * The credentials of a status query about `account`'s messages: its own, or the top-level
   * ones for no account; null when it has none. Throws like `checkId`, and with the resolver
   * form rejects when the account is unknown or the lookup failed.
   */
  async credentialsFor(account: string | null | undefined): Promise<MessenteCredentials | null> {
    const id = this.checkId(account);
    if (id === null) return this.options.credentials;
    const resolved = await this.lookup(id);
    if (!resolved) throw new TypeError(`account: "${id}" is unknown to accounts.resolve`);
    return resolved.credentials;
  }
}

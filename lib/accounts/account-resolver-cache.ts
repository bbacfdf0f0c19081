import { LRUCache } from 'lru-cache';
import { toResolvedAccount } from '../config/resolve-accounts.js';
import type { ResolvedAccount, ResolvedAccounts } from '../interfaces/resolved-dlr-options.interface.js';
import { withDeadline } from '../utils/with-deadline.js';

type ResolverOptions = Extract<ResolvedAccounts, { kind: 'resolver' }>;

/** An answer as cached: null (no such account) is cached too, so an unknown id costs one call per TTL. */
interface Cached {
  readonly account: ResolvedAccount | null;
}

/** `accounts.resolve` failed, took too long, or answered something that is not an account. */
export class AccountLookupError extends Error {
  constructor(id: string, problem: string) {
    super(`accounts.resolve("${id}") ${problem}`);
    this.name = 'AccountLookupError';
  }
}

/**
 * The app's `accounts.resolve`, behind an LRU of at most `maxCached` answers kept `cacheTtlMs`:
 * memory stays bounded however many tenants post, and concurrent requests for one id share one
 * call (lru-cache's `fetch` hands every caller the call in flight). A failure is not cached,
 * so the next request asks again.
 */
export class AccountResolverCache {
  private readonly cache: LRUCache<string, Cached>;

  constructor(private readonly options: ResolverOptions) {
    this.cache = new LRUCache<string, Cached>({
      max: options.maxCached,
      ttl: options.cacheTtlMs,
      fetchMethod: (id) => this.call(id),
    });
  }

  /** The account of an id that follows the id rule, or null; rejects with `AccountLookupError`. */
  async lookup(id: string): Promise<ResolvedAccount | null> {
    const cached = await this.cache.fetch(id);
    return cached?.account ?? null;
  }

  /** How many answers are kept now. */
  get size(): number {
    return this.cache.size;
  }

  private async call(id: string): Promise<Cached> {
    const { resolve, timeoutMs } = this.options;
    let answer: Awaited<ReturnType<typeof resolve>>;
    try {
      // `then` turns a resolver that throws synchronously into a rejection like any other.
      answer = await withDeadline(
        Promise.resolve().then(() => resolve(id)),
        timeoutMs,
        () => new AccountLookupError(id, `gave no answer within ${timeoutMs} ms`),
      );
    } catch (error) {
      if (error instanceof AccountLookupError) throw error;
      throw new AccountLookupError(id, `failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (answer === null || answer === undefined) return { account: null };
    if (typeof answer !== 'object') throw new AccountLookupError(id, 'answered neither an account nor null');
    const account = toResolvedAccount(id, answer, 'answer', (option, problem) => {
      throw new AccountLookupError(id, `${option} ${problem}`);
    });
    return { account };
  }
}

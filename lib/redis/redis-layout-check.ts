import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/** A bucket count recorded in Redis that differs from this store's: the store must not start. */
export class LayoutMismatchError extends Error {}

/**
 * The check that the bucket count recorded in Redis for a key prefix is this store's (recording
 * it if none is), so that two instances never disagree about where a message lives. Runs once;
 * concurrent callers share the check in flight, and a failed one is tried again by the next.
 */
export class RedisLayoutCheck {
  private passed = false;
  private checking: Promise<void> | null = null;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisDlrKeys,
  ) {}

  /** True once the check passed: callers then skip it without an await. */
  get done(): boolean {
    return this.passed;
  }

  /** Resolves when the layout is this store's; rejects with `LayoutMismatchError` when not. */
  run(): Promise<void> {
    this.checking ??= this.check().finally(() => (this.checking = null));
    return this.checking;
  }

  private async check(): Promise<void> {
    const wanted = String(this.keys.buckets);
    if ((await this.client.set(this.keys.layout, wanted, 'NX')) !== 'OK') {
      const recorded = await this.client.get(this.keys.layout);
      if (recorded !== wanted) {
        throw new LayoutMismatchError(
          `RedisDlrStore: Redis holds this key prefix's data in ${recorded} buckets, not ${wanted}: ` +
            `set the option \`buckets\` to ${recorded}, or use another keyPrefix`,
        );
      }
    }
    this.passed = true;
  }
}

import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/** A layout recorded in Redis that differs from this store's: the store must not start. */
export class LayoutMismatchError extends Error {}

/** What each layout version means, for the refusal. */
const LAYOUTS: Record<string, string> = {
  '1': 'layout 1 (each message in the bucket of its own id: standalone Redis, and Redis Cluster before outcome tracking)',
  '2': 'layout 2 (a message in the bucket of its omnimessage: Redis Cluster with outcome tracking)',
};

/**
 * The check that the bucket count and layout version recorded in Redis for a key prefix are
 * this store's (recording them if none are), so that two instances never disagree about where
 * a message lives, and a store never misreads keys written in another layout. Both are one
 * string (`RedisDlrKeys.layoutValue`), written at once. Runs once; concurrent callers share the
 * check in flight, and a failed one is tried again by the next.
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
    const wanted = this.keys.layoutValue;
    if ((await this.client.set(this.keys.layout, wanted, 'NX')) !== 'OK') {
      const recorded = await this.client.get(this.keys.layout);
      if (recorded !== wanted) throw new LayoutMismatchError(refusal(recorded ?? '', this.keys));
    }
    this.passed = true;
  }
}

/** Why a store refuses the layout `recorded`, naming what to change. */
function refusal(recorded: string, keys: RedisDlrKeys): string {
  const [, buckets = recorded, version = '1'] = /^(\d+)(?: v(\d+))?$/.exec(recorded) ?? [];
  if (buckets !== String(keys.buckets)) {
    return (
      `RedisDlrStore: Redis holds this key prefix's data in ${buckets} buckets, not ${keys.buckets}: ` +
      `set the option \`buckets\` to ${buckets}, or use another keyPrefix`
    );
  }
  const own = keys.colocated ? '2' : '1';
  return (
    `RedisDlrStore: Redis holds this key prefix's data in ${LAYOUTS[version] ?? `layout ${version}`}, ` +
    `and this store, on ${keys.colocated ? 'Redis Cluster' : 'standalone Redis'}, uses ${LAYOUTS[own]}: ` +
    'it would not find those messages. Use another keyPrefix'
  );
}

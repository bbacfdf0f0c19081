import { Cluster, type ClusterNode, type ClusterOptions, type Redis } from 'ioredis';
import { optionValidatorsOf } from '../utils/option-validators.js';
import { DEFAULT_BUCKETS, MAX_BUCKETS, RedisDlrKeys, assertNoHashTag } from './redis-dlr.keys.js';

/** Options of `RedisDlrStore`. Give exactly one of `client`, `url` and `cluster`. */
export interface RedisDlrStoreOptions {
  /**
   * An ioredis client to use: a `Redis` or a `Cluster`. The store never closes it, and its own
   * `keyPrefix`, if any, is honoured. Consider `enableOfflineQueue: false` so that calls fail at
   * once during an outage; a `Cluster` should keep `scaleReads: 'master'` (the default).
   */
  client?: Redis | Cluster;
  /**
   * A Redis URL (`redis://…`, `rediss://…`). The store creates a client that fails fast while
   * Redis is down, reconnects by itself, and is closed by `close()`.
   */
  url?: string;
  /**
   * Startup nodes of a Redis Cluster. The store creates an ioredis `Cluster` (merged with
   * `clusterOptions`) that fails fast, reads from masters, and is closed by `close()`.
   */
  cluster?: ClusterNode[];
  /** Options of the `Cluster` created from `cluster` (TLS, `redisOptions.password`, `natMap`…). */
  clusterOptions?: ClusterOptions;
  /** Prefix of every key the store writes. Default `'messente-dlr:'`. No `{` or `}`. */
  keyPrefix?: string;
  /**
   * Buckets of the shared indexes (pending changes, unsettled messages, omnimessages), each a
   * hash slot of its own. Fixed for a key prefix: the first instance records it in Redis and
   * an instance configured otherwise refuses to start. Default 16, at most 1024.
   */
  buckets?: number;
  /**
   * Replicas that must acknowledge each recorded report before it is answered 200: `WAIT` is
   * pipelined after the script, in the same round trip. Redis replicates asynchronously, so
   * without it a master that dies may take the last reports it acknowledged with it. A report
   * not acknowledged in time is answered 503 (Messente retries), and dispatched all the same
   * once its lease runs out. Default 0 (no `WAIT`).
   */
  waitForReplicas?: number;
  /** How long `WAIT` waits for `waitForReplicas` acknowledgements, in ms. Default 500. */
  waitForReplicasTimeoutMs?: number;
  /** Lifetime, in seconds, of every key written for a message, renewed on each new report. Default 30 days. */
  ttlSeconds?: number;
  /** Reports kept per message in `history()`. Default 32. */
  maxHistory?: number;
  /**
   * Every call (waiting for the connection included) rejects after this many ms, so that a hung
   * or unreachable Redis fails fast. Default 2500: longer than the webhook's own 1.5 s deadline,
   * so that a report Redis records just after the 503 went out is still seen, and dispatched,
   * by the app. The same option as `PostgresDlrStore`'s `timeoutMs`.
   */
  timeoutMs?: number;
  /** @deprecated Use `timeoutMs`, the name both stores share (which wins when both are given). */
  commandTimeoutMs?: number;
}

/** `RedisDlrStoreOptions` checked, with their defaults. */
export interface ResolvedRedisOptions {
  /** The key layout of `keyPrefix` and `buckets`: layout 2 (`colocated`) on Redis Cluster. */
  readonly keys: RedisDlrKeys;
  readonly ttlSeconds: number;
  readonly maxHistory: number;
  /** `timeoutMs`, or the deprecated `commandTimeoutMs`. */
  readonly timeoutMs: number;
  readonly waitForReplicas: number;
  readonly waitForReplicasTimeoutMs: number;
}

/** Checks the options (throwing `RedisDlrStore: …` for a bad one) and fills in defaults. */
export function resolveRedisOptions(options: RedisDlrStoreOptions): ResolvedRedisOptions {
  if ([options.client, options.url, options.cluster].filter((given) => given !== undefined).length !== 1) {
    throw new Error('RedisDlrStore: give exactly one of the options `client`, `url` and `cluster`');
  }
  const { positiveInteger, nonNegativeInteger } = optionValidatorsOf('RedisDlrStore');
  const prefix = options.keyPrefix ?? 'messente-dlr:';
  assertNoHashTag('keyPrefix', prefix);
  const buckets = positiveInteger('buckets', options.buckets ?? DEFAULT_BUCKETS);
  if (buckets > MAX_BUCKETS) {
    throw new Error(`RedisDlrStore: buckets must be at most ${MAX_BUCKETS}, got ${buckets}`);
  }
  // On a cluster a message lives in its omnimessage's bucket (layout 2), so that tracking works.
  const colocated = options.cluster !== undefined || options.client instanceof Cluster;
  return {
    keys: new RedisDlrKeys(prefix, buckets, colocated),
    ttlSeconds: positiveInteger('ttlSeconds', options.ttlSeconds ?? 30 * 24 * 60 * 60),
    maxHistory: positiveInteger('maxHistory', options.maxHistory ?? 32),
    timeoutMs:
      options.timeoutMs !== undefined
        ? positiveInteger('timeoutMs', options.timeoutMs)
        : positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 2500),
    waitForReplicas: nonNegativeInteger('waitForReplicas', options.waitForReplicas ?? 0),
    waitForReplicasTimeoutMs: positiveInteger(
      'waitForReplicasTimeoutMs',
      options.waitForReplicasTimeoutMs ?? 500,
    ),
  };
}

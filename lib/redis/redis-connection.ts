import { Logger } from '@nestjs/common';
import { once } from 'node:events';
import { Cluster, Redis, type ClusterNode, type ClusterOptions } from 'ioredis';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { withDeadline } from '../utils/with-deadline.js';
import { assertNoHashTag } from './redis-dlr.keys.js';
import type { RedisDlrStoreOptions } from './redis-dlr.options.js';

/** A standalone client or a cluster: the store treats them alike. */
export type RedisClient = Redis | Cluster;

/** Errors of ioredis (or of the store's own deadline) that do not name the cause of an outage. */
const VAGUE = /no answer within|isn't writeable|Connection is closed|Cluster is|None of startup nodes/;

/**
 * The client of a `RedisDlrStore` through its life: created from `url` or `cluster` (failing
 * fast while Redis is down, reconnecting by itself) or given, connected on first use, asked why
 * it failed, and closed when the store created it.
 */
export class RedisConnection {
  /** The client every call goes through. */
  readonly client: RedisClient;
  private readonly owned: boolean;
  private lastError: string | null = null;
  private connecting: Promise<unknown> | null = null;

  constructor(
    options: Pick<RedisDlrStoreOptions, 'client' | 'url' | 'cluster' | 'clusterOptions'>,
    private readonly timeoutMs: number,
  ) {
    this.owned = !options.client;
    this.client =
      options.client ??
      (options.cluster
        ? this.createCluster(options.cluster, options.clusterOptions)
        : this.createClient(options.url!));
    assertNoHashTag('the client’s keyPrefix', this.client.options.keyPrefix ?? '');
    if (options.client && options.client.options.enableOfflineQueue !== false) {
      // Calls still fail within timeoutMs, but the queued ones would run later.
      new Logger(LOGGER_CONTEXT).warn(
        'RedisDlrStore: the given ioredis client queues commands while Redis is down ' +
          '(enableOfflineQueue); create it with { enableOfflineQueue: false }.',
      );
    }
  }

  /**
   * Why a call failed: a refused or timed-out call says little by itself, and then the last
   * connection error (the refused port, the unknown host) says why.
   */
  reasonOf(message: string): string {
    return this.lastError !== null && VAGUE.test(message) ? this.lastError : message;
  }

  /**
   * Resolves once a client that is still connecting is ready: without an offline queue it would
   * refuse commands. Does not wait for one that is reconnecting, since during an outage calls
   * must fail at once. Callers share one wait, so that a burst of calls adds one listener.
   */
  async whenConnected(): Promise<void> {
    const { status } = this.client;
    if (status === 'wait') {
      this.connecting ??= this.client.connect();
    } else if (status === 'connecting' || status === 'connect') {
      this.connecting ??= once(this.client, 'ready');
    } else {
      return;
    }
    const connecting = this.connecting;
    try {
      await connecting;
    } finally {
      if (this.connecting === connecting) this.connecting = null;
    }
  }

  /** PING, answered by every master of a cluster. */
  async ping(): Promise<void> {
    const client = this.client;
    await (client instanceof Cluster
      ? Promise.all(client.nodes('master').map((node) => node.ping()))
      : client.ping());
  }

  /** Closes the client if it was created here; a client passed in stays open. */
  async close(): Promise<void> {
    if (!this.owned || this.client.status === 'end') return;
    try {
      await withDeadline(
        this.whenConnected().then(() => this.client.quit()),
        this.timeoutMs,
      );
    } catch {
      this.client.disconnect();
    }
  }

  private createClient(url: string): Redis {
    const client = new Redis(url, {
      // Queued commands would hold a webhook request until Redis returns; failing lets it answer 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    this.listen(client);
    return client;
  }

  private createCluster(nodes: ClusterNode[], options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(nodes, {
      // Replicas lag behind their master: a read there could miss a report just recorded.
      scaleReads: 'master',
      // As for a single node: fail fast while a master is unreachable, so intake answers 503.
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      ...options,
      redisOptions: {
        maxRetriesPerRequest: 1,
        commandTimeout: this.timeoutMs,
        connectTimeout: this.timeoutMs,
        ...options.redisOptions,
      },
    });
    this.listen(cluster);
    cluster.on('node error', (error: Error) => (this.lastError = error.message));
    return cluster;
  }

  private listen(client: RedisClient): void {
    // Without a listener ioredis logs every failed reconnect; the reason goes into call errors instead.
    client.on('error', (error: Error) => (this.lastError = error.message));
    client.on('ready', () => (this.lastError = null));
  }
}

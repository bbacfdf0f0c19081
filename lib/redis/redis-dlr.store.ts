import { Logger, type OnModuleInit } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { Cluster, Redis, type ClusterNode, type ClusterOptions } from 'ioredis';
import {
  COMPLETE,
  CLAIM,
  LIST_PENDING,
  RECORD,
  SCRIPTS,
  SEARCH,
  UNSETTLED_LATEST,
  type Script,
} from './redis-dlr.scripts.js';
import { DEFAULT_BUCKETS, MAX_BUCKETS, RedisDlrKeys, assertNoHashTag } from './redis-dlr.keys.js';
import { type Entry, groupByBucket, mergeByScore } from './bucket-entries.js';
import {
  messageIdOf,
  periodOf,
  periodSeconds,
  periodsToRead,
  searchEntries,
  searchRanges,
} from './search-entries.js';
import { MAX_RECENT, MAX_SEARCH, boundedLimit } from '../stores/store-queries.js';
import type {
  DlrStore,
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';

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
   * Every call rejects after this many ms, so that a hung or unreachable Redis fails fast.
   * Default 2500: longer than the webhook's own 1.5 s deadline, so that a report Redis records
   * just after the 503 went out is still seen, and dispatched, by the app.
   */
  commandTimeoutMs?: number;
}

type RedisClient = Redis | Cluster;

/** Errors of ioredis (or of the store's own timer) that do not name the cause of an outage. */
const VAGUE = /no answer within|isn't writeable|Connection is closed|Cluster is|None of startup nodes/;
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** A bucket count recorded in Redis that differs from this store's. */
class LayoutMismatchError extends Error {}

/**
 * A `DlrStore` on Redis (ioredis 5), standalone or Redis Cluster, shared safely by any number
 * of app instances and kept across restarts. Every decision is one Lua script on one hash
 * slot, so it is atomic and one round trip; the semantics are those of `InMemoryDlrStore`
 * (one contract suite runs against both). Key layout: see `RedisDlrKeys`.
 *
 * Every call rejects within `commandTimeoutMs` with an error saying Redis is unavailable, so
 * that the webhook can answer 503 and Messente retries later.
 */
export class RedisDlrStore implements DlrStore, OnModuleInit {
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly keys: RedisDlrKeys;
  private readonly ttlSeconds: number;
  private readonly maxHistory: number;
  private readonly commandTimeoutMs: number;
  private readonly waitForReplicas: number;
  private readonly waitTimeoutMs: number;
  private lastConnectionError: string | null = null;
  private connecting: Promise<unknown> | null = null;
  private layoutChecked = false;
  private checkingLayout: Promise<void> | null = null;

  constructor(options: RedisDlrStoreOptions) {
    if ([options.client, options.url, options.cluster].filter((given) => given !== undefined).length !== 1) {
      throw new Error('RedisDlrStore: give exactly one of the options `client`, `url` and `cluster`');
    }
    const prefix = options.keyPrefix ?? 'messente-dlr:';
    assertNoHashTag('keyPrefix', prefix);
    const buckets = positiveInteger('buckets', options.buckets ?? DEFAULT_BUCKETS);
    if (buckets > MAX_BUCKETS) {
      throw new Error(`RedisDlrStore: buckets must be at most ${MAX_BUCKETS}, got ${buckets}`);
    }
    this.keys = new RedisDlrKeys(prefix, buckets);
    this.ttlSeconds = positiveInteger('ttlSeconds', options.ttlSeconds ?? 30 * 24 * 60 * 60);
    this.maxHistory = positiveInteger('maxHistory', options.maxHistory ?? 32);
    this.commandTimeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 2500);
    this.waitForReplicas = nonNegativeInteger('waitForReplicas', options.waitForReplicas ?? 0);
    this.waitTimeoutMs = positiveInteger('waitForReplicasTimeoutMs', options.waitForReplicasTimeoutMs ?? 500);
    this.ownsClient = !options.client;
    this.client =
      options.client ??
      (options.cluster
        ? this.createCluster(options.cluster, options.clusterOptions)
        : this.createClient(options.url!));
    assertNoHashTag('the client’s keyPrefix', this.client.options.keyPrefix ?? '');
    if (options.client && options.client.options.enableOfflineQueue !== false) {
      // Calls still fail within commandTimeoutMs, but the queued ones would run later.
      new Logger(LOGGER_CONTEXT).warn(
        'RedisDlrStore: the given ioredis client queues commands while Redis is down ' +
          '(enableOfflineQueue); create it with { enableOfflineQueue: false }.',
      );
    }
    // EVALSHA, and EVAL on a connection that has not run the script yet: per node on a
    // cluster, so a failover or a node's restart needs nothing from the store.
    for (const { name, lua, numberOfKeys } of SCRIPTS) {
      this.client.defineCommand(name, { lua, numberOfKeys });
    }
  }

  /**
   * Checks at startup that the bucket count recorded in Redis is this store's (recording it
   * if none is), so that two instances never disagree about where a message lives. When Redis
   * cannot be reached yet, the check runs before the first call instead.
   */
  async onModuleInit(): Promise<void> {
    try {
      await this.call(() => Promise.resolve());
    } catch (error) {
      if (error instanceof LayoutMismatchError) throw error;
    }
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError(`RedisDlrStore: receivedAt and leaseMs must be finite numbers`);
    }
    const messageId = String(raw['message_id']);
    const status = String(raw['status']);
    const omnimessageId = typeof raw['omnimessage_id'] === 'string' ? raw['omnimessage_id'] : null;
    const bucket = this.keys.bucketOf(messageId);
    const keys = [
      this.keys.message(messageId),
      this.keys.history(messageId),
      this.keys.omnimessage(bucket, omnimessageId ?? ''),
      this.keys.leases(bucket),
      this.keys.pendingReports(bucket),
      this.keys.unsettled(bucket),
      this.keys.recent(bucket),
      this.keys.find(bucket, periodOf(Date.now(), this.ttlSeconds)),
    ];
    const args = [
      JSON.stringify(raw),
      messageId,
      status,
      pendingMember({ messageId, status }),
      String(receivedAt),
      String(receivedAt + leaseMs),
      omnimessageId === null ? '0' : '1',
      String(this.maxHistory),
      String(this.ttlSeconds),
      // A period and a TTL after its last write: no message it names outlives it.
      String(this.ttlSeconds + periodSeconds(this.ttlSeconds)),
      ...searchEntries(messageId, omnimessageId, raw['to']),
    ];
    const reply = await this.call(() =>
      this.waitForReplicas > 0
        ? this.runReplicated(RECORD, keys, args)
        : this.script(RECORD)(...keys, ...args),
    );
    const [outcome, report] = reply as [RecordOutcome, string?];
    return { outcome, report: report === undefined ? null : parseReport(report) };
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    const bucket = this.keys.bucketOf(key.messageId);
    await this.call(() =>
      this.script(COMPLETE)(this.keys.leases(bucket), this.keys.pendingReports(bucket), pendingMember(key)),
    );
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    const leases = this.keys.leases(this.keys.bucketOf(key.messageId));
    // XX: releasing a report that was completed meanwhile must not resurrect it.
    await this.call(() => this.client.zadd(leases, 'XX', Date.now(), pendingMember(key)));
  }

  /**
   * {@inheritDoc DlrStore.claimPending}
   *
   * Reads the due head of every bucket (bounded by `limit`), finds how many of the `limit`
   * leases that ended first lie in each bucket (ties: buckets reached first in a walk from a
   * random bucket), and claims that many from the head of each bucket, atomically per bucket.
   * When other instances claimed some meanwhile, it walks the buckets from a random start to
   * claim the rest, so that concurrent sweeps share the backlog instead of colliding.
   */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const count = Math.floor(limit);
    const leaseUntil = String(Date.now() + leaseMs);
    const claim = async (bucket: number, n: number) =>
      (await this.script(CLAIM)(
        this.keys.leases(bucket),
        this.keys.pendingReports(bucket),
        String(endedBefore),
        leaseUntil,
        String(n),
      )) as string[];
    return this.call(async () => {
      const due = await this.heads(randomInt(this.keys.buckets), (bucket) =>
        this.client.zrangebyscore(
          this.keys.leases(bucket),
          '-inf',
          `(${endedBefore}`,
          'WITHSCORES',
          'LIMIT',
          0,
          count,
        ),
      );
      const chosen = due.slice(0, count);
      const quotas = [...groupByBucket(chosen)].map(([bucket, entries]) => [bucket, entries.length] as const);
      const buckets = quotas.map(([bucket]) => bucket);
      const replies = await Promise.all(quotas.map(([bucket, n]) => claim(bucket, n)));
      let claimed = replies.reduce((total, reply) => total + reply.length / 2, 0);
      if (claimed < chosen.length) {
        for (const bucket of this.keys.walk(randomInt(this.keys.buckets))) {
          if (claimed >= count) break;
          const reply = await claim(bucket, count - claimed);
          buckets.push(bucket);
          replies.push(reply);
          claimed += reply.length / 2;
        }
      }
      // A lease shorter than a millisecond could let the walk claim a report twice.
      const reports = new Set(mergeByScore(replies, buckets).map((entry) => entry.member));
      return [...reports].map(parseReport);
    });
  }

  /** {@inheritDoc DlrStore.latest} */
  async latest(messageId: string): Promise<StoredReport | null> {
    const report = await this.call(() => this.client.hget(this.keys.message(messageId), 'latest'));
    return report === null ? null : parseReport(report);
  }

  /** {@inheritDoc DlrStore.history} */
  async history(messageId: string): Promise<StoredReport[]> {
    return parseReports(await this.call(() => this.client.lrange(this.keys.history(messageId), 0, -1)));
  }

  /**
   * {@inheritDoc DlrStore.forOmnimessage}
   *
   * The omnimessage's ids are indexed in the bucket of each message: every bucket is read,
   * then the latest change of each message found.
   */
  async forOmnimessage(omnimessageId: string): Promise<StoredReport[]> {
    return this.call(async () => {
      const members = await this.heads(0, (bucket) =>
        this.client.zrange(this.keys.omnimessage(bucket, omnimessageId), 0, -1, 'WITHSCORES'),
      );
      const latest = await Promise.all(
        members.map((entry) => this.client.hget(this.keys.message(entry.member), 'latest')),
      );
      return latest.filter((report): report is string => report !== null).map(parseReport);
    });
  }

  /**
   * {@inheritDoc DlrStore.unsettled}
   *
   * Reads the oldest `limit` of every bucket, takes the oldest `limit` across buckets, then
   * their latest changes; ids whose message expired are dropped from the index and the read
   * is repeated (a bounded number of times).
   */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const count = Math.floor(limit);
    return this.call(async () => {
      for (let round = 0; ; round++) {
        const oldest = (
          await this.heads(0, (bucket) =>
            this.client.zrangebyscore(
              this.keys.unsettled(bucket),
              '-inf',
              `(${before}`,
              'WITHSCORES',
              'LIMIT',
              0,
              count,
            ),
          )
        ).slice(0, count);
        const latest = new Map<Entry, string>();
        await Promise.all(
          [...groupByBucket(oldest)].map(async ([bucket, entries]) => {
            const keys = [
              this.keys.unsettled(bucket),
              ...entries.map((entry) => this.keys.message(entry.member)),
            ];
            const reports = (await this.script(UNSETTLED_LATEST)(
              keys.length,
              ...keys,
              ...entries.map((entry) => entry.member),
            )) as string[];
            entries.forEach((entry, i) => reports[i] && latest.set(entry, reports[i]));
          }),
        );
        // Expired ids were dropped: another read finds the next ones.
        if (latest.size === oldest.length || round === 9) {
          return oldest.flatMap((entry) => {
            const report = latest.get(entry);
            return report === undefined ? [] : [parseReport(report)];
          });
        }
      }
    });
  }

  /** {@inheritDoc DlrStore.ping} Every master of a cluster must answer. */
  async ping(): Promise<void> {
    await this.call(() =>
      this.client instanceof Cluster
        ? Promise.all(this.client.nodes('master').map((node) => node.ping())).then(() => undefined)
        : this.client.ping().then(() => undefined),
    );
  }

  /** {@inheritDoc DlrStore.countPending} */
  async countPending(): Promise<number> {
    return this.call(async () => {
      const counts = await Promise.all(
        this.keys.walk(0).map((bucket) => this.client.hlen(this.keys.pendingReports(bucket))),
      );
      return counts.reduce((sum, count) => sum + count, 0);
    });
  }

  /** {@inheritDoc DlrStore.listPending} */
  async listPending(limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const count = Math.floor(limit);
    return this.call(async () => {
      const pending = await Promise.all(
        this.keys
          .walk(0)
          .map(
            async (bucket) =>
              (await this.script(LIST_PENDING)(
                this.keys.leases(bucket),
                this.keys.pendingReports(bucket),
                String(count),
              )) as string[],
          ),
      );
      return mergeByScore(pending)
        .slice(0, count)
        .map((entry) => parseReport(entry.member));
    });
  }

  /**
   * {@inheritDoc DlrStore.recent}
   *
   * Each bucket keeps its newest changes (by receipt). The newest `window` of every bucket hold
   * the newest `window` of all, and each is read back from its message's history; a change that
   * left it (`maxHistory`, or its message expired) is skipped, and the window doubles until
   * `limit` are found or every bucket was read whole.
   */
  async recent(limit: number): Promise<StoredReport[]> {
    const count = boundedLimit(limit, MAX_RECENT);
    if (count === 0) return [];
    return this.call(async () => {
      const changes = new Map<string, StoredReport | null>();
      for (let window = count; ; window = Math.min(MAX_RECENT, window * 2)) {
        const replies = await Promise.all(
          this.keys
            .walk(0)
            .map((bucket) => this.client.zrevrange(this.keys.recent(bucket), 0, window - 1, 'WITHSCORES')),
        );
        const newest = mergeByScore(replies).reverse().slice(0, window);
        const unread = newest.filter(({ member }) => !changes.has(member));
        const read = await Promise.all(unread.map(({ member }) => this.changeOf(member)));
        unread.forEach(({ member }, i) => changes.set(member, read[i] ?? null));
        const found = newest.flatMap(({ member }) => changes.get(member) ?? []);
        if (found.length >= count || newest.length < window || window === MAX_RECENT) {
          return found.slice(0, count);
        }
      }
    });
  }

  /**
   * {@inheritDoc DlrStore.search}
   *
   * One script per bucket reads the search index of the periods that can hold a live message
   * (see `search-entries.ts`), then the latest change of each message found orders them. A
   * prefix matching more than `limit` messages in one bucket keeps those of the newest periods.
   */
  async search(query: string, limit: number): Promise<string[]> {
    const count = boundedLimit(limit, MAX_SEARCH);
    if (count === 0 || query === '') return [];
    const periods = periodsToRead(Date.now(), this.ttlSeconds);
    const ranges = searchRanges(query);
    return this.call(async () => {
      const replies = await Promise.all(
        this.keys
          .walk(0)
          .map(
            async (bucket) =>
              (await this.script(SEARCH)(
                periods.length,
                ...periods.map((period) => this.keys.find(bucket, period)),
                String(count),
                ...(ranges as unknown as string[]),
              )) as string[],
          ),
      );
      const ids = [...new Set(replies.flat().map(messageIdOf))];
      const latest = await Promise.all(ids.map((id) => this.client.hget(this.keys.message(id), 'latest')));
      return ids
        .flatMap((id, i) => {
          const report = latest[i];
          return report == null ? [] : [{ id, at: parseReport(report).receivedAt }];
        })
        .sort((a, b) => b.at - a.at)
        .slice(0, count)
        .map((match) => match.id);
    });
  }

  /** Closes the client if the store created it from `url` or `cluster`; a client passed in stays open. */
  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    try {
      await this.call(() => this.client.quit(), false);
    } catch {
      this.client.disconnect();
    }
  }

  private createClient(url: string): Redis {
    const client = new Redis(url, {
      // Queued commands would hold a webhook request until Redis returns; failing lets it answer 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.commandTimeoutMs,
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
        commandTimeout: this.commandTimeoutMs,
        connectTimeout: this.commandTimeoutMs,
        ...options.redisOptions,
      },
    });
    this.listen(cluster);
    cluster.on('node error', (error: Error) => (this.lastConnectionError = error.message));
    return cluster;
  }

  private listen(client: RedisClient): void {
    // Without a listener ioredis logs every failed reconnect; the reason goes into call errors instead.
    client.on('error', (error: Error) => (this.lastConnectionError = error.message));
    client.on('ready', () => (this.lastConnectionError = null));
  }

  /** The command `defineCommand` made of a script. */
  private script(script: Script): ScriptCall {
    return (...args) => (this.client as unknown as Record<string, ScriptCall>)[script.name]!(...args);
  }

  /** The change a pending member names, from its message's history; null once it left it. */
  private async changeOf(member: string): Promise<StoredReport | null> {
    const [messageId, status] = JSON.parse(member) as [string, string];
    const history = parseReports(await this.client.lrange(this.keys.history(messageId), 0, -1));
    // A message records each status once: the report with this status is the change.
    return history.find((report) => report.raw['status'] === status) ?? null;
  }

  /**
   * Runs a script and `WAIT` in one pipeline (one round trip, on the node of the script's
   * slot), and fails unless `waitForReplicas` replicas acknowledged what it wrote.
   */
  private async runReplicated(
    script: Script,
    keys: string[],
    args: string[],
    redirected = false,
  ): Promise<unknown> {
    // (ioredis sends a script as EVAL on a connection's first use, so NOSCRIPT, whose retry
    // would leave the pipeline, only follows a SCRIPT FLUSH on a live connection.)
    const pipeline = this.client.pipeline();
    (pipeline as unknown as Record<string, ScriptCall>)[script.name]!(...keys, ...args);
    pipeline.call('WAIT', this.waitForReplicas, this.waitTimeoutMs);
    const [[scriptError, reply], [waitError, acknowledged]] = (await pipeline.exec()) as [
      [Error | null, unknown],
      [Error | null, unknown],
    ];
    if (scriptError) {
      // ioredis follows a redirection for a pipeline only when every command in it was
      // redirected, and WAIT, which has no key, never is: after a failover or a resharding,
      // learn the new slot owners and send the pipeline once more (the script did not run).
      if (!redirected && this.client instanceof Cluster && /^(MOVED|ASK) /.test(scriptError.message)) {
        const cluster = this.client;
        await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
        return this.runReplicated(script, keys, args, true);
      }
      throw scriptError;
    }
    if (waitError) throw waitError;
    if (Number(acknowledged) < this.waitForReplicas) {
      throw new Error(
        `${Number(acknowledged)} of ${this.waitForReplicas} replicas acknowledged within ${this.waitTimeoutMs} ms`,
      );
    }
    return reply;
  }

  /**
   * Reads every bucket of a shared index with `read` (a bounded ZRANGE… WITHSCORES), walking
   * from `start`, and merges the answers by score.
   */
  private async heads(start: number, read: (bucket: number) => Promise<string[]>): Promise<Entry[]> {
    const walk = this.keys.walk(start);
    const replies = await Promise.all(walk.map(read));
    return mergeByScore(replies, walk);
  }

  /** Runs Redis operations, bounded by `commandTimeoutMs`, with errors that name the cause. */
  private async call<T>(operation: () => Promise<T>, checkLayout = true): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    try {
      const ready = checkLayout ? this.whenReady() : this.whenConnected();
      return await Promise.race([ready.then(operation), timeout]);
    } catch (error) {
      if (error instanceof LayoutMismatchError) throw error;
      const message = errorMessage(error);
      // A refused or timed-out call says little by itself; the last connection error says why.
      const reason =
        this.lastConnectionError !== null && VAGUE.test(message) ? this.lastConnectionError : message;
      throw new Error(`RedisDlrStore: Redis is unavailable (${reason})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private async whenReady(): Promise<void> {
    await this.whenConnected();
    if (this.layoutChecked) return;
    this.checkingLayout ??= this.checkLayout().finally(() => (this.checkingLayout = null));
    await this.checkingLayout;
  }

  /** Records the bucket count if none is, and refuses one that differs. */
  private async checkLayout(): Promise<void> {
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
    this.layoutChecked = true;
  }

  // A client that is still connecting would refuse commands without an offline queue: wait for
  // it, but not for one that is reconnecting, since during an outage calls must fail at once.
  // Callers share one wait, so that a burst of calls adds one listener, not one each.
  private async whenConnected(): Promise<void> {
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
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`RedisDlrStore: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`RedisDlrStore: ${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

/** Injective, unlike a separator that could occur in a message id. */
function pendingMember(key: PendingKey): string {
  return JSON.stringify([key.messageId, key.status]);
}

function parseReport(json: string): StoredReport {
  return JSON.parse(json) as StoredReport;
}

function parseReports(reply: unknown): StoredReport[] {
  return (reply as string[]).map(parseReport);
}

import type { OnModuleInit } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type {
  DlrStore,
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';
import type {
  DlrOutcomeStore,
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { encodeReportKey, messageIdOf, statusOf } from '../stores/report-key.js';
import { MAX_RECENT, MAX_SEARCH, boundedLimit } from '../stores/store-queries.js';
import { storeUnavailable } from '../stores/store-unavailable.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';
import { readBuckets } from './bucket-entries.js';
import { claimAcrossBuckets } from './bucket-claims.js';
import { type RedisClient, RedisConnection } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import {
  type RedisDlrStoreOptions,
  type ResolvedRedisOptions,
  resolveRedisOptions,
} from './redis-dlr.options.js';
import {
  COMPLETE,
  LIST_PENDING,
  RECORD,
  SCRIPTS,
  defineScripts,
  parseReport,
  parseReports,
  scriptOn,
} from './redis-dlr.scripts.js';
import { readRecent, searchIds } from './redis-feed.js';
import { readUnsettled } from './redis-unsettled.js';
import { LayoutMismatchError, RedisLayoutCheck } from './redis-layout-check.js';
import { runReplicated } from './replicated-pipeline.js';
import { CLUSTER_TRACKING_MESSAGE, RedisOutcomes } from './redis-outcomes.js';
import { RECORD_TRACKED, TRACKING_SCRIPTS } from './redis-tracking.scripts.js';
import { periodOf, periodSeconds, searchEntries } from './search-entries.js';

export type { RedisDlrStoreOptions } from './redis-dlr.options.js';

/**
 * A `DlrStore` on Redis (ioredis 5), standalone or Redis Cluster, shared safely by any number
 * of app instances and kept across restarts. Every decision is one Lua script on one hash
 * slot, so it is atomic and one round trip; the semantics are those of `InMemoryDlrStore`
 * (one contract suite runs against both). Key layout: see `RedisDlrKeys`.
 *
 * Every call rejects within `timeoutMs` with an error saying Redis is unavailable, so
 * that the webhook can answer 503 and Messente retries later.
 */
export class RedisDlrStore implements DlrStore, DlrOutcomeStore, OnModuleInit {
  private readonly options: ResolvedRedisOptions;
  private readonly connection: RedisConnection;
  private readonly client: RedisClient;
  private readonly keys: RedisDlrKeys;
  private readonly layout: RedisLayoutCheck;
  private readonly outcomes: RedisOutcomes;

  constructor(options: RedisDlrStoreOptions) {
    this.options = resolveRedisOptions(options);
    this.keys = this.options.keys;
    this.connection = new RedisConnection(options, this.options.timeoutMs);
    this.client = this.connection.client;
    this.layout = new RedisLayoutCheck(this.client, this.keys);
    this.outcomes = new RedisOutcomes(this.client, this.keys, this.options.ttlSeconds);
    defineScripts(this.client, [...SCRIPTS, ...TRACKING_SCRIPTS]);
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
    account?: string,
  ): Promise<RecordResult> {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError(`RedisDlrStore: receivedAt and leaseMs must be finite numbers`);
    }
    const messageId = messageIdOf(raw);
    const status = statusOf(raw);
    const omnimessageId = typeof raw['omnimessage_id'] === 'string' ? raw['omnimessage_id'] : null;
    const { ttlSeconds, maxHistory, waitForReplicas } = this.options;
    const keys = this.keys.recordKeys(messageId, omnimessageId, periodOf(Date.now(), ttlSeconds));
    const args = [
      JSON.stringify(raw),
      messageId,
      status,
      encodeReportKey(messageId, status),
      String(receivedAt),
      String(receivedAt + leaseMs),
      omnimessageId === null ? '0' : '1',
      String(maxHistory),
      String(ttlSeconds),
      // A period and a TTL after its last write: no message it names outlives it.
      String(ttlSeconds + periodSeconds(ttlSeconds)),
      ...searchEntries(messageId, omnimessageId, raw['to']),
    ];
    // The account, and on standalone Redis what lets the same script decide a tracked message's outcome.
    const extras = this.outcomes.recordExtras(messageId, omnimessageId, raw, account);
    const script = this.outcomes.linked ? RECORD_TRACKED : RECORD;
    keys.push(...extras.keys);
    args.push(...extras.args);
    return this.call(async () => {
      const reply = await (waitForReplicas > 0
        ? runReplicated(this.client, script, keys, args, {
            replicas: waitForReplicas,
            timeoutMs: this.options.waitForReplicasTimeoutMs,
          })
        : scriptOn(this.client, script)(...keys, ...args));
      const [outcome, json, change, relink] = reply as [RecordOutcome, string?, string?, string?];
      // The report's key is this call's: the stored JSON is parsed for the rest (ref, account).
      const report = json === undefined ? null : parseReport(json, messageId, status);
      // Untracked reports (no ref) keep the answer of a store without tracking.
      if (outcome !== 'change' || report?.ref === undefined) return { outcome, report };
      const outcomeChange = await this.outcomes.changeOf(messageId, change, relink, receivedAt + leaseMs);
      return { outcome, report, outcomeChange };
    });
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    const bucket = this.keys.bucketOf(key.messageId);
    await this.call(() =>
      scriptOn(this.client, COMPLETE)(
        this.keys.leases(bucket),
        this.keys.pendingReports(bucket),
        encodeReportKey(key.messageId, key.status),
      ),
    );
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    const leases = this.keys.leases(this.keys.bucketOf(key.messageId));
    // XX: releasing a report that was completed meanwhile must not resurrect it.
    await this.call(() =>
      this.client.zadd(leases, 'XX', Date.now(), encodeReportKey(key.messageId, key.status)),
    );
  }

  /** {@inheritDoc DlrStore.claimPending} See `claimAcrossBuckets`. */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const index = {
      leases: (b: number) => this.keys.leases(b),
      items: (b: number) => this.keys.pendingReports(b),
    };
    return this.call(async () =>
      (
        await claimAcrossBuckets(
          this.client,
          this.keys,
          index,
          endedBefore,
          Date.now() + leaseMs,
          Math.floor(limit),
        )
      ).map((json) => parseReport(json)),
    );
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
      const members = await readBuckets(this.keys.walk(0), (bucket) =>
        this.client.zrange(this.keys.omnimessage(bucket, omnimessageId), 0, -1, 'WITHSCORES'),
      );
      const latest = await Promise.all(
        members.map((entry) => this.client.hget(this.keys.message(entry.member), 'latest')),
      );
      return latest.filter((report): report is string => report !== null).map((json) => parseReport(json));
    });
  }

  /** {@inheritDoc DlrStore.unsettled} See `readUnsettled`. */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    return this.call(() => readUnsettled(this.client, this.keys, before, Math.floor(limit)));
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
    const list = scriptOn(this.client, LIST_PENDING);
    const read = (bucket: number) =>
      list(this.keys.leases(bucket), this.keys.pendingReports(bucket), String(count)) as Promise<string[]>;
    return this.call(async () =>
      (await readBuckets(this.keys.walk(0), read)).slice(0, count).map((entry) => parseReport(entry.member)),
    );
  }

  /** {@inheritDoc DlrStore.recent} See `readRecent`. */
  async recent(limit: number): Promise<StoredReport[]> {
    const count = boundedLimit(limit, MAX_RECENT);
    if (count === 0) return [];
    return this.call(() => readRecent(this.client, this.keys, count));
  }

  /** {@inheritDoc DlrStore.search} See `searchIds`. */
  async search(query: string, limit: number): Promise<string[]> {
    const count = boundedLimit(limit, MAX_SEARCH);
    if (count === 0 || query === '') return [];
    return this.call(() => searchIds(this.client, this.keys, query, count, this.options.ttlSeconds));
  }

  /**
   * {@inheritDoc DlrOutcomeStore.track}
   *
   * One script, which reads the reports the messages already have (their keys are in KEYS).
   * On Redis Cluster it rejects (see `CLUSTER_TRACKING_MESSAGE`): the script, like the record
   * script that decides outcomes, spans the slots of the messages and of the omnimessage.
   */
  async track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    if (!this.outcomes.linked) throw new Error(CLUSTER_TRACKING_MESSAGE);
    return this.call(() => this.outcomes.track(input, now, leaseMs));
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    return this.call(() => this.outcomes.outcome(omnimessageId));
  }

  /** {@inheritDoc DlrOutcomeStore.findByRef} One index per ref; one MGET across slots. */
  findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    return this.call(() => this.outcomes.findByRef(ref, limit));
  }

  /** {@inheritDoc DlrOutcomeStore.completeOutcome} */
  async completeOutcome(key: OutcomeKey): Promise<void> {
    await this.call(() => this.outcomes.complete(key));
  }

  /** {@inheritDoc DlrOutcomeStore.releaseOutcome} */
  async releaseOutcome(key: OutcomeKey): Promise<void> {
    await this.call(() => this.outcomes.release(key));
  }

  /** {@inheritDoc DlrOutcomeStore.claimPendingOutcomes} */
  claimPendingOutcomes(
    limit: number,
    leaseMs: number,
    endedBefore = Date.now() + 1,
  ): Promise<OutcomeChange[]> {
    return this.call(() => this.outcomes.claimPending(limit, leaseMs, endedBefore));
  }

  /**
   * {@inheritDoc DlrOutcomeStore.claimOverdue}
   *
   * Candidates sit in a per-bucket index scored by deadline; winning one re-scores it to the
   * lease end, in one script that checks it again, so that each is won once.
   */
  claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]> {
    return this.call(() => this.outcomes.claimOverdue(now, limit, leaseMs));
  }

  /** {@inheritDoc DlrOutcomeStore.markOverdue} */
  markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null> {
    return this.call(() => this.outcomes.markOverdue(omnimessageId, now, leaseMs));
  }

  /** {@inheritDoc DlrOutcomeStore.countPendingOutcomes} */
  countPendingOutcomes(): Promise<number> {
    return this.call(() => this.outcomes.countPending());
  }

  /** Closes the client if the store created it from `url` or `cluster`; a client passed in stays open. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * Runs Redis operations once the client is connected and the layout checked, bounded by
   * `timeoutMs` in all, with errors that name the cause.
   */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(this.whenReady().then(operation), this.options.timeoutMs);
    } catch (error) {
      if (error instanceof LayoutMismatchError) throw error;
      throw storeUnavailable('RedisDlrStore', 'Redis', error, this.connection.reasonOf(errorMessage(error)));
    }
  }

  private async whenReady(): Promise<void> {
    await this.connection.whenConnected();
    if (!this.layout.done) await this.layout.run();
  }
}

import type { OnModuleInit } from '@nestjs/common';
import type { DlrStore, PendingKey, RecordResult, StoredReport } from '../interfaces/dlr-store.interface.js';
import type { DeliveryTally, DeliveryWindow } from '../interfaces/delivery-stats.interface.js';
import type {
  DlrOutcomeStore,
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { encodeReportKey } from '../stores/report-key.js';
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
  SCRIPTS,
  defineScripts,
  parseReport,
  parseReports,
  scriptOn,
} from './redis-dlr.scripts.js';
import { RedisDeliveryStats } from './redis-delivery-stats.js';
import { readRecent, searchIds } from './redis-feed.js';
import { readOmnimessage } from './redis-omnimessage.js';
import { readUnsettled } from './redis-unsettled.js';
import { LayoutMismatchError, RedisLayoutCheck } from './redis-layout-check.js';
import { RedisMessageHomes } from './redis-message-homes.js';
import { RedisOutcomes } from './redis-outcomes.js';
import { RedisRecorder } from './redis-recorder.js';
import { HOME_SCRIPTS } from './redis-home.scripts.js';
import { TRACKING_SCRIPTS } from './redis-tracking.scripts.js';

export type { RedisDlrStoreOptions } from './redis-dlr.options.js';

/**
 * A `DlrStore` on Redis (ioredis 5), standalone or Redis Cluster, shared safely by any number
 * of app instances and kept across restarts. Every decision is one Lua script on one hash
 * slot (on standalone Redis, tracking's two), so it is atomic and one round trip; the semantics are
 * those of `InMemoryDlrStore` (one contract suite runs against both). Key layout: `RedisDlrKeys`;
 * on Redis Cluster a lookup by message id reads one key more first (`RedisMessageHomes`).
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
  private readonly homes: RedisMessageHomes;
  private readonly recorder: RedisRecorder;
  private readonly stats: RedisDeliveryStats;

  constructor(options: RedisDlrStoreOptions) {
    this.options = resolveRedisOptions(options);
    this.keys = this.options.keys;
    this.connection = new RedisConnection(options, this.options.timeoutMs);
    this.client = this.connection.client;
    this.layout = new RedisLayoutCheck(this.client, this.keys);
    this.outcomes = new RedisOutcomes(this.client, this.keys, this.options.ttlSeconds);
    this.homes = new RedisMessageHomes(this.client, this.keys, this.options.ttlSeconds);
    this.recorder = new RedisRecorder(this.client, this.options, this.outcomes, this.homes);
    this.stats = new RedisDeliveryStats(this.client, this.keys, this.options.ttlSeconds);
    defineScripts(this.client, [...SCRIPTS, ...TRACKING_SCRIPTS, ...HOME_SCRIPTS]);
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
    const recording = this.recorder.prepare(raw, receivedAt, leaseMs, account);
    return this.call(() => this.recorder.record(recording));
  }

  /** {@inheritDoc DlrStore.complete} On Redis Cluster, see `RedisMessageHomes` for its cost. */
  async complete(key: PendingKey): Promise<void> {
    await this.call(async () => {
      const bucket = await this.homes.find(key.messageId);
      const [leases, reports] = [this.keys.leases(bucket), this.keys.pendingReports(bucket)];
      await scriptOn(this.client, COMPLETE)(leases, reports, encodeReportKey(key.messageId, key.status));
    });
  }

  /** {@inheritDoc DlrStore.release} On Redis Cluster, see `RedisMessageHomes` for its cost. */
  async release(key: PendingKey): Promise<void> {
    // XX: releasing a report that was completed meanwhile must not resurrect it.
    await this.call(async () => {
      const leases = this.keys.leases(await this.homes.find(key.messageId));
      await this.client.zadd(leases, 'XX', Date.now(), encodeReportKey(key.messageId, key.status));
    });
  }

  /** {@inheritDoc DlrStore.claimPending} See `claimAcrossBuckets`. */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const index = {
      leases: (b: number) => this.keys.leases(b),
      items: (b: number) => this.keys.pendingReports(b),
    };
    return this.call(async () => {
      const claimed = await claimAcrossBuckets(
        this.client,
        this.keys,
        index,
        endedBefore,
        Date.now() + leaseMs,
        Math.floor(limit),
      );
      return this.homes.repair(
        claimed.map(({ bucket, member }) => ({ bucket, report: parseReport(member) })),
      );
    });
  }

  /** {@inheritDoc DlrStore.latest} On Redis Cluster, see `RedisMessageHomes` for its cost. */
  async latest(messageId: string): Promise<StoredReport | null> {
    const report = await this.call(async () =>
      this.client.hget(this.keys.message(messageId, await this.homes.find(messageId)), 'latest'),
    );
    return report === null ? null : parseReport(report);
  }

  /** {@inheritDoc DlrStore.history} On Redis Cluster, see `RedisMessageHomes` for its cost. */
  async history(messageId: string): Promise<StoredReport[]> {
    const history = async () => this.keys.history(messageId, await this.homes.find(messageId));
    return parseReports(await this.call(async () => this.client.lrange(await history(), 0, -1)));
  }

  /** {@inheritDoc DlrStore.forOmnimessage} See `readOmnimessage`. */
  async forOmnimessage(omnimessageId: string): Promise<StoredReport[]> {
    return this.call(() => readOmnimessage(this.client, this.keys, omnimessageId));
  }

  /** {@inheritDoc DlrStore.unsettled} See `readUnsettled`. */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    return this.call(() => readUnsettled(this.client, this.keys, before, Math.floor(limit)));
  }

  /** {@inheritDoc DlrStore.ping} See `RedisConnection.ping`. */
  async ping(): Promise<void> {
    await this.call(() => this.connection.ping());
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

  /** {@inheritDoc DlrOutcomeStore.track} See `RedisOutcomes.track`. */
  async track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    return this.call(() => this.outcomes.track(input, now, leaseMs));
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    return this.call(() => this.outcomes.outcome(omnimessageId));
  }

  /** {@inheritDoc DlrOutcomeStore.findByRef} See `RedisOutcomes.findByRef`. */
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

  /** {@inheritDoc DlrDeliveryStatsStore.tallyDelivery} Its cost: see `RedisDeliveryStats.tally`. */
  async tallyDelivery(tallies: readonly DeliveryTally[]): Promise<readonly (number | null)[]> {
    return this.call(this.stats.tally(tallies));
  }

  /** {@inheritDoc DlrDeliveryStatsStore.deliveryBuckets} Its cost: see `RedisDeliveryStats.buckets`. */
  deliveryBuckets(window: DeliveryWindow, now: number) {
    return this.call(() => this.stats.buckets(window, now));
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

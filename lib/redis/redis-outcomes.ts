import { randomInt } from 'node:crypto';
import { Cluster } from 'ioredis';
import type {
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  StoredOutcomeMessage,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { integerOrNull } from '../payload/payload-fields.js';
import { groupByBucket } from './bucket-entries.js';
import { claimAcrossBuckets, lowestAcross } from './bucket-claims.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { COMPLETE, scriptOn } from './redis-dlr.scripts.js';
import { RedisTrackingKeys, outcomeMember } from './redis-tracking.keys.js';
import { CLAIM_OVERDUE, MARK_OVERDUE, SYNC_OUTCOME, TRACK } from './redis-tracking.scripts.js';

/** Most outcomes `findByRef` answers. */
const MAX_BY_REF = 500;

/**
 * Why `track()` refuses on Redis Cluster: the error a caller sees (the store throws it before
 * any call, so that it is not mistaken for an outage).
 */
export const CLUSTER_TRACKING_MESSAGE =
  'RedisDlrStore: track() cannot work on Redis Cluster. A report and the outcome it causes are ' +
  'decided in one Lua script, which needs both the message’s keys and its omnimessage’s keys, and ' +
  'these live in different hash slots. Track outcomes with a standalone Redis (Sentinel included) ' +
  'or PostgresDlrStore; status changes on Redis Cluster work as before.';

/**
 * The tracking half of `RedisDlrStore` (`DlrOutcomeStore`): the Redis operations of each
 * method, run by the store inside its deadline. Key layout: `RedisTrackingKeys`; Lua:
 * redis-tracking.scripts.ts.
 */
export class RedisOutcomes {
  /**
   * True on standalone Redis, where the record script may touch an omnimessage's slot: only
   * then are outcomes tracked and decided with reports.
   */
  readonly linked: boolean;
  private readonly keys: RedisTrackingKeys;

  constructor(
    private readonly client: RedisClient,
    private readonly dlrKeys: RedisDlrKeys,
    private readonly ttlSeconds: number,
  ) {
    this.linked = !(client instanceof Cluster);
    this.keys = new RedisTrackingKeys(dlrKeys);
  }

  /**
   * The KEYS and ARGV of the record script beyond `RECORD`'s first 8 KEYS and 13 ARGV: ARGV 14,
   * the account's JSON ('' for none), then on standalone Redis (`linked`) what `RECORD_TRACKED`
   * takes. On a cluster (where `RECORD` runs: nothing is tracked there) a report without an
   * account gets none of them, so that it costs what it did before accounts. The outcome keys
   * are those of the report's `omnimessage_id`, since KEYS must be known before the script
   * reads the link.
   */
  recordExtras(
    messageId: string,
    omnimessageId: string | null,
    raw: Readonly<Record<string, unknown>>,
    account: string | undefined,
  ): { keys: string[]; args: string[] } {
    const accountArg = account === undefined ? '' : JSON.stringify(account);
    if (!this.linked) return { keys: [], args: account === undefined ? [] : [accountArg] };
    const err = integerOrNull(raw['err']);
    return {
      keys: [this.keys.link(messageId), ...this.keys.outcomeKeys(omnimessageId ?? '')],
      args: [accountArg, err === null ? '' : String(err), omnimessageId ?? ''],
    };
  }

  /**
   * The outcome change of a recorded change of a tracked message: the script's answer, or,
   * when the report named another omnimessage than the tracked one (`relink`), that of a
   * second step that applies the message's latest status to the tracked outcome.
   */
  async changeOf(
    messageId: string,
    change: string | undefined,
    relink: string | undefined,
    leaseUntil: number,
  ): Promise<OutcomeChange | null> {
    if (relink) {
      change = (await scriptOn(this.client, SYNC_OUTCOME)(
        this.keys.link(messageId),
        this.dlrKeys.message(messageId),
        ...this.keys.outcomeKeys(relink),
        messageId,
        String(leaseUntil),
        String(this.ttlSeconds),
        relink,
      )) as string;
    }
    return change ? parseChange(change) : null;
  }

  /** {@inheritDoc DlrOutcomeStore.track} */
  async track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    const tracked: StoredOutcome = {
      omnimessageId: input.omnimessageId,
      ref: input.ref,
      to: input.to,
      account: input.account,
      result: 'pending',
      deliveredVia: null,
      settledAt: null,
      deadline: input.deadline,
      trackedAt: now,
      messages: input.messages.map(({ messageId, channel }) => ({
        messageId,
        channel,
        status: null,
        err: null,
        at: null,
      })),
    };
    const outcomeKeys = this.keys.outcomeKeys(input.omnimessageId);
    const keys = [
      ...outcomeKeys,
      input.ref === null ? outcomeKeys[0]! : this.keys.byRef(input.ref),
      ...input.messages.flatMap(({ messageId }) => [
        this.keys.link(messageId),
        this.dlrKeys.message(messageId),
      ]),
    ];
    const [status, outcome, change] = (await scriptOn(this.client, TRACK)(
      keys.length,
      ...keys,
      JSON.stringify(tracked),
      input.ref === null ? '0' : '1',
      input.ref ?? '',
      String(now),
      String(now + leaseMs),
      String(this.ttlSeconds),
      // The index of a ref outlives its outcomes' own TTL: reports renew those, not it.
      String(this.ttlSeconds * 2),
      String(input.deadline),
    )) as [TrackResult['status'], string, string?];
    return {
      status,
      outcome: parseOutcome(outcome),
      change: status === 'tracked' && change ? parseChange(change) : null,
    };
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  async outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    const json = await this.client.get(this.keys.outcome(omnimessageId));
    return json === null ? null : parseOutcome(json);
  }

  /**
   * {@inheritDoc DlrOutcomeStore.findByRef}
   *
   * Reads the ref's index newest first, page by page, skipping ids whose outcome expired.
   * The outcomes live in their own buckets: one MGET across slots, which standalone Redis
   * allows (on a cluster nothing is tracked, so the index is empty).
   */
  async findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    const count = Math.min(Math.floor(limit), MAX_BY_REF);
    const found: StoredOutcome[] = [];
    if (!(count >= 1)) return found;
    for (let start = 0; found.length < count; start += count) {
      const ids = await this.client.zrevrange(this.keys.byRef(ref), start, start + count - 1);
      if (ids.length === 0) break;
      const outcomes = await this.client.mget(...ids.map((id) => this.keys.outcome(id)));
      for (const json of outcomes) {
        const outcome = json === null ? null : parseOutcome(json);
        if (outcome?.ref === ref) found.push(outcome);
      }
      if (ids.length < count) break;
    }
    return found.slice(0, count);
  }

  /** {@inheritDoc DlrOutcomeStore.completeOutcome} */
  async complete(key: OutcomeKey): Promise<void> {
    const bucket = this.keys.bucketOf(key.omnimessageId);
    await scriptOn(this.client, COMPLETE)(
      this.keys.leases(bucket),
      this.keys.changes(bucket),
      outcomeMember(key.omnimessageId, key.result),
    );
  }

  /** {@inheritDoc DlrOutcomeStore.releaseOutcome} */
  async release(key: OutcomeKey): Promise<void> {
    const leases = this.keys.leases(this.keys.bucketOf(key.omnimessageId));
    // XX: releasing a change completed meanwhile must not resurrect it.
    await this.client.zadd(leases, 'XX', Date.now(), outcomeMember(key.omnimessageId, key.result));
  }

  /** {@inheritDoc DlrOutcomeStore.claimPendingOutcomes} See `claimAcrossBuckets`. */
  async claimPending(limit: number, leaseMs: number, endedBefore: number): Promise<OutcomeChange[]> {
    if (!(limit >= 1)) return [];
    const index = { leases: (b: number) => this.keys.leases(b), items: (b: number) => this.keys.changes(b) };
    const claimed = await claimAcrossBuckets(
      this.client,
      this.dlrKeys,
      index,
      endedBefore,
      Date.now() + leaseMs,
      Math.floor(limit),
    );
    return claimed.map(parseChange);
  }

  /**
   * {@inheritDoc DlrOutcomeStore.claimOverdue}
   *
   * Reads the earliest due candidates of every bucket, then leases the `limit` earliest in one
   * script per bucket, which checks each again: a candidate another sweeper leased meanwhile
   * is skipped, so each is won once.
   */
  async claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]> {
    if (!(limit >= 1)) return [];
    const overdue = (bucket: number) => this.keys.overdue(bucket);
    const walk = this.dlrKeys.walk(randomInt(this.dlrKeys.buckets));
    const due = await lowestAcross(this.client, overdue, walk, String(now), Math.floor(limit));
    const replies = await Promise.all(
      [...groupByBucket(due)].map(([bucket, entries]) => {
        const keys = [overdue(bucket), ...entries.map((entry) => this.keys.outcome(entry.member))];
        return scriptOn(this.client, CLAIM_OVERDUE)(
          keys.length,
          ...keys,
          String(now),
          String(now + leaseMs),
          ...entries.map((entry) => entry.member),
        ) as Promise<string[]>;
      }),
    );
    return replies.flat().map(parseOutcome);
  }

  /** {@inheritDoc DlrOutcomeStore.markOverdue} */
  async markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null> {
    const change = (await scriptOn(this.client, MARK_OVERDUE)(
      ...this.keys.outcomeKeys(omnimessageId),
      omnimessageId,
      String(now + leaseMs),
    )) as string | null;
    return change === null ? null : parseChange(change);
  }

  /** {@inheritDoc DlrOutcomeStore.countPendingOutcomes} */
  async countPending(): Promise<number> {
    const counts = await Promise.all(
      this.dlrKeys.walk(0).map((bucket) => this.client.hlen(this.keys.changes(bucket))),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }
}

/**
 * An outcome as the scripts store it, in the shape of `StoredOutcome` (absent values null):
 * the JSON comes from cjson, whose field order is its own.
 */
export function parseOutcome(json: string): StoredOutcome {
  return shaped(JSON.parse(json) as StoredOutcome);
}

/** A pending outcome change as the scripts store it. */
export function parseChange(json: string): OutcomeChange {
  const stored = JSON.parse(json) as OutcomeChange;
  return { outcome: shaped(stored.outcome), previousResult: stored.previousResult };
}

function shaped(stored: StoredOutcome): StoredOutcome {
  return {
    omnimessageId: stored.omnimessageId,
    ref: stored.ref ?? null,
    to: stored.to ?? null,
    account: stored.account ?? null,
    result: stored.result,
    deliveredVia: stored.deliveredVia ?? null,
    settledAt: stored.settledAt ?? null,
    deadline: stored.deadline,
    trackedAt: stored.trackedAt,
    messages: stored.messages.map((message): StoredOutcomeMessage => ({
      messageId: message.messageId,
      channel: message.channel,
      status: message.status ?? null,
      err: message.err ?? null,
      at: message.at ?? null,
    })),
  };
}

import { randomInt } from 'node:crypto';
import type {
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  StoredOutcomeMessage,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
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
 * The tracking half of `RedisDlrStore` (`DlrOutcomeStore`): the Redis operations of each
 * method, run by the store inside its deadline. Key layout: `RedisTrackingKeys`; Lua:
 * redis-tracking.scripts.ts.
 */
export class RedisOutcomes {
  private readonly keys: RedisTrackingKeys;

  constructor(
    private readonly client: RedisClient,
    private readonly dlrKeys: RedisDlrKeys,
    private readonly ttlSeconds: number,
  ) {
    this.keys = new RedisTrackingKeys(dlrKeys);
  }

  /**
   * The outcome change of a recorded change of a tracked message: the script's answer, or,
   * when the report named another omnimessage than the tracked one (`relink`), that of a
   * second step that applies the message's latest status to the tracked outcome.
   */
  async changeOf(
    messageId: string,
    home: number,
    change: string | undefined,
    relink: string | undefined,
    leaseUntil: number,
  ): Promise<OutcomeChange | null> {
    if (relink) {
      change = (await scriptOn(this.client, SYNC_OUTCOME)(
        this.keys.link(messageId, home),
        this.dlrKeys.message(messageId, home),
        ...this.keys.outcomeKeys(relink),
        messageId,
        String(leaseUntil),
        String(this.ttlSeconds),
        relink,
      )) as string;
    }
    return change ? parseChange(change) : null;
  }

  /**
   * {@inheritDoc DlrOutcomeStore.track}
   *
   * One script, which reads the reports the messages already have: each message's keys and
   * link in its home bucket (on Redis Cluster the omnimessage's, so all in one slot). The ref's
   * index is in the ref's bucket: on a cluster it is written beside the script, at once (one
   * round trip, two commands), with `ZADD NX`, so that tracking again keeps the first time; an
   * id there whose outcome has another ref is skipped by `findByRef`. If that write fails,
   * `track()` rejects, and tracking again (which answers `existing`) writes it.
   */
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
    const refHere = input.ref !== null && !this.dlrKeys.colocated;
    const keys = [
      ...outcomeKeys,
      refHere ? this.keys.byRef(input.ref!) : outcomeKeys[0]!,
      ...input.messages.flatMap(({ messageId }) => {
        const home = this.dlrKeys.homeOf(messageId, input.omnimessageId);
        return [this.keys.link(messageId, home), this.dlrKeys.message(messageId, home)];
      }),
    ];
    const refIndex =
      refHere || input.ref === null ? undefined : this.indexRef(input.ref, input.omnimessageId, now);
    const tracking = scriptOn(this.client, TRACK)(
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
      refHere ? '1' : '0',
    );
    const [[status, outcome, change]] = (await Promise.all([tracking, refIndex])) as [
      [TrackResult['status'], string, string?],
      unknown,
    ];
    return {
      status,
      outcome: parseOutcome(outcome),
      change: status === 'tracked' && change ? parseChange(change) : null,
    };
  }

  /** Adds a tracked omnimessage to its ref's index, in the ref's slot (Redis Cluster). */
  private async indexRef(ref: string, omnimessageId: string, now: number): Promise<void> {
    const index = this.keys.byRef(ref);
    // One key: one slot, so the pipeline goes to one master. The index outlives its outcomes.
    const replies = await this.client
      .pipeline()
      .zadd(index, 'NX', now, omnimessageId)
      .expire(index, this.ttlSeconds * 2)
      .exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (failed) throw failed;
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
   * The outcomes live in their own buckets: one MGET across slots on standalone Redis, one GET
   * each (at once) on a cluster.
   */
  async findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    const count = Math.min(Math.floor(limit), MAX_BY_REF);
    const found: StoredOutcome[] = [];
    if (!(count >= 1)) return found;
    for (let start = 0; found.length < count; start += count) {
      const ids = await this.client.zrevrange(this.keys.byRef(ref), start, start + count - 1);
      if (ids.length === 0) break;
      const keys = ids.map((id) => this.keys.outcome(id));
      const outcomes = this.dlrKeys.colocated
        ? await Promise.all(keys.map((key) => this.client.get(key)))
        : await this.client.mget(...keys);
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
    return claimed.map((entry) => parseChange(entry.member));
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

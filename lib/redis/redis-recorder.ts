import type { RecordOutcome, RecordResult } from '../interfaces/dlr-store.interface.js';
import { integerOrNull } from '../payload/payload-fields.js';
import { encodeReportKey, messageIdOf, statusOf } from '../stores/report-key.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import type { ResolvedRedisOptions } from './redis-dlr.options.js';
import { type Script, parseReport, scriptOn } from './redis-dlr.scripts.js';
import type { RedisMessageHomes } from './redis-message-homes.js';
import type { RedisOutcomes } from './redis-outcomes.js';
import { RedisTrackingKeys } from './redis-tracking.keys.js';
import { RECORD_TRACKED, RECORD_TRACKED_HOMED } from './redis-tracking.scripts.js';
import { runReplicated } from './replicated-pipeline.js';
import { periodOf, periodSeconds, searchEntries } from './search-entries.js';

/** One report to record, as `RedisRecorder.prepare` read it. */
export interface Recording {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly json: string;
  readonly messageId: string;
  readonly status: string;
  readonly omnimessageId: string | null;
  readonly receivedAt: number;
  readonly leaseUntil: number;
  readonly account: string | undefined;
  /** The search period it is filed in (see `search-entries.ts`). */
  readonly period: number;
}

/** A record script's reply: `RecordOutcome`, report, outcome change, relink; or `elsewhere`, bucket. */
type Reply = [RecordOutcome | 'elsewhere', string?, string?, string?];

/**
 * `RedisDlrStore.record()`: one script that records a report and decides the outcome it causes
 * (`RECORD_TRACKED`; on Redis Cluster `RECORD_TRACKED_HOMED`, in the message's home bucket, see
 * `RedisMessageHomes`), with `WAIT` in the same pipeline when replicas must acknowledge it.
 */
export class RedisRecorder {
  private readonly keys: RedisDlrKeys;
  private readonly tracking: RedisTrackingKeys;

  constructor(
    private readonly client: RedisClient,
    private readonly options: ResolvedRedisOptions,
    private readonly outcomes: RedisOutcomes,
    private readonly homes: RedisMessageHomes,
  ) {
    this.keys = options.keys;
    this.tracking = new RedisTrackingKeys(options.keys);
  }

  /** Reads a report to record; throws a `TypeError` for one that cannot be (before any call). */
  prepare(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
    account: string | undefined,
  ): Recording {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError(`RedisDlrStore: receivedAt and leaseMs must be finite numbers`);
    }
    const omnimessageId = typeof raw['omnimessage_id'] === 'string' ? raw['omnimessage_id'] : null;
    return {
      raw,
      json: JSON.stringify(raw),
      messageId: messageIdOf(raw),
      status: statusOf(raw),
      omnimessageId,
      receivedAt,
      leaseUntil: receivedAt + leaseMs,
      account,
      period: periodOf(Date.now(), this.options.ttlSeconds),
    };
  }

  /** Records a prepared report (inside the store's deadline). */
  async record(recording: Recording): Promise<RecordResult> {
    const { messageId, status, omnimessageId } = recording;
    const home = this.keys.homeOf(messageId, omnimessageId);
    const { bucket, reply } = this.keys.colocated
      ? await this.recordHomed(recording, home)
      : { bucket: home, reply: await this.run(recording, home) };
    const [outcome, json, change, relink] = reply as [RecordOutcome, string?, string?, string?];
    // The report's key is this call's: the stored JSON is parsed for the rest (ref, account).
    const report = json === undefined ? null : parseReport(json, messageId, status);
    // Untracked reports (no ref) keep the answer of a store without tracking.
    if (outcome !== 'change' || report?.ref === undefined) return { outcome, report };
    const leaseUntil = recording.leaseUntil;
    const outcomeChange = await this.outcomes.changeOf(messageId, bucket, change, relink, leaseUntil);
    return { outcome, report, outcomeChange };
  }

  /**
   * Layout 2: records in `home`, the bucket of the report's omnimessage (or of its message id),
   * and, when the message lives in another bucket, undoes that and records there instead.
   */
  private async recordHomed(recording: Recording, home: number): Promise<{ bucket: number; reply: Reply }> {
    if (home === this.keys.bucketOf(recording.messageId)) {
      // The script reads the home index itself (same slot), and records nothing when elsewhere.
      const reply = await this.run(recording, home);
      if (reply[0] !== 'elsewhere') return { bucket: home, reply };
      return this.again(recording, this.homes.bucket(reply[1]!));
    }
    const [reply, claimed] = await Promise.all([
      this.run(recording, home),
      this.homes.claim(recording.messageId, home),
    ]);
    if (claimed === home) return { bucket: home, reply };
    await this.homes.forget(recording, recording.raw, home, recording.period);
    return this.again(recording, claimed);
  }

  /** Records a report in its message's home, found after a first try elsewhere. */
  private async again(recording: Recording, bucket: number): Promise<{ bucket: number; reply: Reply }> {
    const reply = await this.run(recording, bucket);
    if (reply[0] === 'elsewhere') {
      throw new Error(`RedisDlrStore: the home of message ${recording.messageId} moved while recording`);
    }
    return { bucket, reply };
  }

  /** Runs the record script of `recording` in `bucket`. */
  private run(recording: Recording, bucket: number): Promise<Reply> {
    const { raw, messageId, status, omnimessageId, receivedAt, leaseUntil } = recording;
    const { ttlSeconds, maxHistory, waitForReplicas } = this.options;
    const keys = this.keys.recordKeys(messageId, omnimessageId, recording.period, bucket);
    const args = [
      recording.json,
      messageId,
      status,
      encodeReportKey(messageId, status),
      String(receivedAt),
      String(leaseUntil),
      omnimessageId === null ? '0' : '1',
      String(maxHistory),
      String(ttlSeconds),
      // A period and a TTL after its last write: no message it names outlives it.
      String(ttlSeconds + periodSeconds(ttlSeconds)),
      ...searchEntries(messageId, omnimessageId, raw['to']),
      recording.account === undefined ? '' : JSON.stringify(recording.account),
    ];
    const script = this.extend(recording, bucket, keys, args);
    const reply =
      waitForReplicas > 0
        ? runReplicated(this.client, script, keys, args, {
            replicas: waitForReplicas,
            timeoutMs: this.options.waitForReplicasTimeoutMs,
          })
        : scriptOn(this.client, script)(...keys, ...args);
    return reply as Promise<Reply>;
  }

  /**
   * Adds to `RECORD`'s KEYS and ARGV what the script that decides outcomes takes (see
   * `RECORD_TRACKED` and `RECORD_TRACKED_HOMED`), and answers that script. The outcome keys are
   * those of the report's `omnimessage_id`, since KEYS must be known before the script reads
   * the link.
   */
  private extend(recording: Recording, bucket: number, keys: string[], args: string[]): Script {
    const { messageId, omnimessageId } = recording;
    const err = integerOrNull(recording.raw['err']);
    args.push(err === null ? '' : String(err), omnimessageId ?? '');
    if (!this.keys.colocated) {
      keys.push(this.tracking.link(messageId), ...this.tracking.outcomeKeys(omnimessageId ?? ''));
      return RECORD_TRACKED;
    }
    const own = bucket === this.keys.bucketOf(messageId);
    const here = omnimessageId !== null && this.keys.bucketOf(omnimessageId) === bucket;
    keys.push(
      this.tracking.link(messageId, bucket),
      ...(here ? this.tracking.outcomeKeys(omnimessageId) : this.tracking.outcomeKeysIn(bucket)),
      own ? this.keys.homeIndex(messageId) : keys[0]!,
    );
    args.push(own ? '1' : '0', String(bucket));
    return RECORD_TRACKED_HOMED;
  }
}

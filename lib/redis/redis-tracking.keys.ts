import type { DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/**
 * The keys of tracked outcomes, with the same hash tags as `RedisDlrKeys` (an id's bucket is
 * CRC32 of the id, modulo the bucket count):
 *
 * - per tracked message, in the message's home bucket (`RedisDlrKeys.homeOf`):
 *   `<prefix>{b}:track:<message id>`, the link `track()` writes (JSON `[omnimessage id, ref]`),
 *   which the record script reads to know that a report belongs to a tracked omnimessage, and
 *   with which ref;
 * - per tracked omnimessage, in the omnimessage's bucket: `<prefix>{b}:outcome:<omnimessage id>`,
 *   the `StoredOutcome` as JSON;
 * - per bucket (the bucket of the omnimessage): `<prefix>{b}:outcome-pending` (lease ends of
 *   pending outcome changes, a sorted set), `<prefix>{b}:outcome-changes` (hash from member to
 *   `OutcomeChange` JSON), `<prefix>{b}:overdue` (pending outcomes scored by deadline, or by
 *   the end of an overdue sweeper's lease);
 * - per ref, in the ref's bucket: `<prefix>{b}:ref:<ref>`, omnimessage ids scored by `trackedAt`.
 *
 * A report's script needs its message's keys and link and its omnimessage's outcome. In layout
 * 2 (Redis Cluster) the message's home is the omnimessage's bucket: one slot. In layout 1 the
 * message's keys are in its id's bucket: two slots, which standalone Redis allows.
 */
export class RedisTrackingKeys {
  constructor(private readonly keys: RedisDlrKeys) {}

  /** The link of a tracked message to its omnimessage and ref (`bucket`: the message's home). */
  link(messageId: string, bucket = this.keys.bucketOf(messageId)): string {
    return `${this.keys.tag(bucket)}track:${messageId}`;
  }

  /** The bucket of an omnimessage's outcome, pending changes and overdue entry. */
  bucketOf(omnimessageId: string): number {
    return this.keys.bucketOf(omnimessageId);
  }

  /** The outcome of a tracked omnimessage (JSON). */
  outcome(omnimessageId: string): string {
    return `${this.keys.tag(this.bucketOf(omnimessageId))}outcome:${omnimessageId}`;
  }

  /** Lease ends of the bucket's pending outcome changes. */
  leases(bucket: number): string {
    return `${this.keys.tag(bucket)}outcome-pending`;
  }

  /** The bucket's pending outcome changes, by member. */
  changes(bucket: number): string {
    return `${this.keys.tag(bucket)}outcome-changes`;
  }

  /** The bucket's pending outcomes, scored by deadline (or by an overdue sweeper's lease end). */
  overdue(bucket: number): string {
    return `${this.keys.tag(bucket)}overdue`;
  }

  /** The omnimessages tracked with `ref`. */
  byRef(ref: string): string {
    return `${this.keys.tag(this.keys.bucketOf(ref))}ref:${ref}`;
  }

  /**
   * Keys of `bucket` in the places of `outcomeKeys`, for a record script that will not read
   * them (see `RECORD_TRACKED_HOMED`): Redis Cluster wants every KEY in the script's slot.
   */
  outcomeKeysIn(bucket: number): string[] {
    return [
      `${this.keys.tag(bucket)}outcome:`,
      this.leases(bucket),
      this.changes(bucket),
      this.overdue(bucket),
    ];
  }

  /**
   * The outcome's keys every script that changes it takes, in this order: outcome, leases,
   * changes, overdue (all in the omnimessage's slot).
   */
  outcomeKeys(omnimessageId: string): string[] {
    const bucket = this.bucketOf(omnimessageId);
    return [this.outcome(omnimessageId), this.leases(bucket), this.changes(bucket), this.overdue(bucket)];
  }
}

/**
 * The member of a pending outcome change in its bucket's sets: the result first, since it
 * never holds a colon, so that any omnimessage id follows unambiguously.
 */
export function outcomeMember(omnimessageId: string, result: DeliveryOutcomeResult): string {
  return `${result}:${omnimessageId}`;
}

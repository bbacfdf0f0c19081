import type { DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';

/**
 * The keys of tracked outcomes, with the same hash tags as `RedisDlrKeys` (an id's bucket is
 * CRC32 of the id, modulo the bucket count):
 *
 * - per tracked message, in the message's bucket: `<prefix>{b}:track:<message id>`, the link
 *   `track()` writes (JSON `[omnimessage id, ref]`), which the record script reads to know
 *   that a report belongs to a tracked omnimessage, and with which ref;
 * - per tracked omnimessage, in the omnimessage's bucket: `<prefix>{b}:outcome:<omnimessage id>`,
 *   the `StoredOutcome` as JSON;
 * - per bucket (the bucket of the omnimessage): `<prefix>{b}:outcome-pending` (lease ends of
 *   pending outcome changes, a sorted set), `<prefix>{b}:outcome-changes` (hash from member to
 *   `OutcomeChange` JSON), `<prefix>{b}:overdue` (pending outcomes scored by deadline, or by
 *   the end of an overdue sweeper's lease);
 * - per ref, in the ref's bucket: `<prefix>{b}:ref:<ref>`, omnimessage ids scored by `trackedAt`.
 *
 * An outcome's keys share one slot, but a report's script also needs its message's link, in
 * the message's bucket: deciding a report and its outcome together touches two slots, which
 * standalone Redis allows and Redis Cluster does not (see `RedisDlrStore.track`).
 */
export class RedisTrackingKeys {
  constructor(private readonly keys: RedisDlrKeys) {}

  /** The link of a tracked message to its omnimessage and ref. */
  link(messageId: string): string {
    return `${this.keys.tag(this.keys.bucketOf(messageId))}track:${messageId}`;
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

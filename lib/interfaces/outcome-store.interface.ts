import type { DeliveryOutcomeResult } from './delivery-outcome.interface.js';

/** One tracked message as a store keeps it: its channel and what its latest report said. */
export interface StoredOutcomeMessage {
  readonly messageId: string;
  readonly channel: string;
  /** Latest accepted status, or null before the first report. */
  readonly status: string | null;
  /** That report's `err` (an integer), or null. */
  readonly err: number | null;
  /** When that report was received (ms since the epoch), or null. */
  readonly at: number | null;
}

/** A tracked omnimessage as a store keeps it. Times are ms since the epoch. */
export interface StoredOutcome {
  readonly omnimessageId: string;
  readonly ref: string | null;
  readonly to: string | null;
  readonly account: string | null;
  readonly result: DeliveryOutcomeResult;
  readonly deliveredVia: string | null;
  /** When it became delivered or failed, or null. */
  readonly settledAt: number | null;
  readonly deadline: number;
  readonly trackedAt: number;
  /** In fallback order. */
  readonly messages: readonly StoredOutcomeMessage[];
}

/** What `DlrStore.track()` is asked to keep: a checked send answer and its options. */
export interface TrackInput {
  readonly omnimessageId: string;
  readonly ref: string | null;
  readonly to: string | null;
  readonly account: string | null;
  /** When it becomes overdue if still pending (ms since the epoch). */
  readonly deadline: number;
  readonly messages: readonly { readonly messageId: string; readonly channel: string }[];
}

/**
 * A tracked outcome's result changed to one handlers hear of. Recorded as pending and leased
 * to whoever caused it, exactly like a status change: once per (omnimessage, result).
 */
export interface OutcomeChange {
  readonly outcome: StoredOutcome;
  readonly previousResult: DeliveryOutcomeResult;
}

/** The key of one pending outcome change. */
export interface OutcomeKey {
  readonly omnimessageId: string;
  readonly result: DeliveryOutcomeResult;
}

/** The answer of `DlrStore.track()`. */
export interface TrackResult {
  /**
   * `tracked`: kept now; `existing`: it was tracked before and nothing changed (the ref given
   * was the stored one, or none); `ref_conflict`: a ref other than the stored one (also when
   * none was stored: a ref is written once, by the first `track()`), nothing changed.
   */
  readonly status: 'tracked' | 'existing' | 'ref_conflict';
  /** The outcome as of now (for `ref_conflict`, as stored). */
  readonly outcome: StoredOutcome;
  /**
   * For `tracked`: the change when reports that arrived before `track()` settled it at once,
   * pending and leased to the caller; else null.
   */
  readonly change: OutcomeChange | null;
}

/**
 * Tracking: the part of `DlrStore` that keeps outcomes. A store that has it decides a report
 * and the outcome change it causes in the same atomic step as `record()` (which then answers
 * `RecordResult.outcomeChange`), and keeps outcome changes pending with leases like status
 * changes. Optional: without it, `DeliveryStatusService.track()` fails with a clear error.
 */
export interface DlrOutcomeStore {
  /**
   * Tracks an omnimessage, linking the reports its messages already have, in one atomic step.
   * `now` and `leaseMs` lease the change it may cause, as `record()` does.
   */
  track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult>;
  /** The outcome of a tracked omnimessage, or null. */
  outcome(omnimessageId: string): Promise<StoredOutcome | null>;
  /** Tracked omnimessages with this ref, newest `trackedAt` first, at most `limit` (capped at 500). */
  findByRef(ref: string, limit: number): Promise<StoredOutcome[]>;
  /** Marks a pending outcome change as fully handled. */
  completeOutcome(key: OutcomeKey): Promise<void>;
  /** Ends the lease of a pending outcome change now, so it can be claimed again. */
  releaseOutcome(key: OutcomeKey): Promise<void>;
  /** Leases up to `limit` pending outcome changes whose lease ended before `endedBefore` (default now). */
  claimPendingOutcomes(limit: number, leaseMs: number, endedBefore?: number): Promise<OutcomeChange[]>;
  /**
   * Leases, for `leaseMs`, up to `limit` outcomes still `pending` whose deadline is at or
   * before `now` and that no other caller holds: the overdue sweep's candidates. One caller
   * wins each.
   */
  claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]>;
  /**
   * Makes a claimed candidate `overdue` if it is still pending: answers the change, pending
   * and leased to the caller, or null when a report settled it meanwhile.
   */
  markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null>;
  /** How many outcome changes are pending (handlers not all succeeded), leased or not. */
  countPendingOutcomes(): Promise<number>;
}

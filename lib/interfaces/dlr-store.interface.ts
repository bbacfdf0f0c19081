import type { DlrOutcomeStore, OutcomeChange } from './outcome-store.interface.js';
import type { DlrDeliveryStatsStore } from './delivery-stats.interface.js';

/**
 * One report as a store keeps it: its identity, the payload exactly as received, and what the
 * store decided about it. Everything else (`DeliveryStatusChanged`) is derived from this.
 * `messageId` and `status` are its key: a `StoredReport` is also a `PendingKey`.
 */
export interface StoredReport {
  /** The report's `message_id` as text: `String(raw.message_id)`. */
  readonly messageId: string;
  /** The report's `status` as text: `String(raw.status)`. */
  readonly status: string;
  /** The callback body as received (a plain JSON object). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** When the webhook received it, in ms since the epoch. */
  readonly receivedAt: number;
  /** The message's status before this report, or null for its first report. */
  readonly previousStatus: string | null;
  /**
   * The `ref` of the tracked omnimessage the message belongs to, when it was tracked before
   * the report was recorded; null or absent otherwise (stores without tracking leave it out).
   */
  readonly ref?: string | null;
  /**
   * The account whose secret verified the report (module option `accounts`), as given to
   * `record()`; null or absent without one.
   */
  readonly account?: string | null;
}

/** What the store decided about a report. */
export type RecordOutcome =
  /** A change: recorded as the message's latest status; handlers must run. */
  | 'change'
  /** `(message_id, status)` was recorded before: nothing to do. */
  | 'duplicate'
  /** Lower precedence than the stored status: kept in history only. */
  | 'stale'
  /** A duplicate of a change whose handlers have not all succeeded: handlers must run again. */
  | 'redelivery';

/** The answer of `DlrStore.record()`. */
export interface RecordResult {
  /** Change, duplicate, stale or redelivery. */
  readonly outcome: RecordOutcome;
  /** For `change` and `redelivery`: the report to dispatch (with its `previousStatus`). */
  readonly report: StoredReport | null;
  /**
   * For a `change` of a tracked message: the outcome change it caused, decided in the same
   * atomic step, pending and leased to the caller like the report; null or absent otherwise.
   */
  readonly outcomeChange?: OutcomeChange | null;
}

/** The key of one pending dispatch: a change of one message to one status. */
export interface PendingKey {
  /** The message's `message_id`. */
  readonly messageId: string;
  /** The status it changed to. */
  readonly status: string;
}

/**
 * Where reports are recorded. Every method is atomic with respect to concurrent callers,
 * also across processes for a shared store: two copies of one report arriving at once
 * yield one `change` and one `duplicate`.
 *
 * A change is recorded as pending and leased to the caller for `leaseMs`; the caller
 * dispatches it and calls `complete()`. A lease that runs out (the process died) or is
 * released makes the report claimable by `claimPending()` or by a redelivery.
 *
 * Tracking (`DlrOutcomeStore`'s methods) is optional: a store has all of them or none.
 */
export interface DlrStore extends Partial<DlrOutcomeStore>, Partial<DlrDeliveryStatsStore> {
  /**
   * Records a report and decides, atomically, whether it is a change, duplicate or stale.
   * `account`: the account whose secret verified it (module option `accounts`); the store keeps
   * it with the report and returns it as `StoredReport.account` wherever it returns the report.
   * Absent without accounts, and then the report has no account.
   */
  record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
    account?: string,
  ): Promise<RecordResult>;
  /** Marks a change as fully handled. */
  complete(key: PendingKey): Promise<void>;
  /** Gives up the lease of a pending change: it ends now, so the change can be claimed again. */
  release(key: PendingKey): Promise<void>;
  /**
   * Leases up to `limit` pending changes whose lease ended before `endedBefore` (default:
   * now). A sweep passes its own start time, so that changes it releases itself are left for
   * the next sweep instead of being claimed again in a loop.
   */
  claimPending(limit: number, leaseMs: number, endedBefore?: number): Promise<StoredReport[]>;
  /** The latest accepted change of a message, or null. */
  latest(messageId: string): Promise<StoredReport | null>;
  /** Every report recorded for a message (changes and stale ones), oldest first. */
  history(messageId: string): Promise<StoredReport[]>;
  /** The latest change of each message of an omnimessage. */
  forOmnimessage(omnimessageId: string): Promise<StoredReport[]>;
  /** Latest changes that are not final and were received before `before` (ms), oldest first. */
  unsettled(before: number, limit: number): Promise<StoredReport[]>;
  /** Resolves when the store can serve requests; rejects otherwise. */
  ping(): Promise<void>;
  /** How many changes are pending (handlers not all succeeded), leased or not. */
  countPending(): Promise<number>;
  /**
   * Up to `limit` pending changes, in about the order a sweep would claim them, without
   * leasing them: for looking (the board, diagnostics), never for dispatching.
   */
  listPending(limit: number): Promise<StoredReport[]>;
  /**
   * The latest `limit` accepted changes (not stale reports, not duplicates) of every message,
   * newest first (by `receivedAt`), from every instance sharing the store: what the board's
   * feed starts from. `limit` is capped at 500; below 1, `[]`. A store keeps no more than that
   * for it, and forgets a change with its message.
   */
  recent(limit: number): Promise<StoredReport[]>;
  /**
   * Ids of up to `limit` (capped at 500) messages that `query` names, newest latest change
   * first: an exact message id, an exact omnimessage id (each of its messages), a prefix of at
   * least 8 characters (code points) of either, or a full phone number (up to 64 characters) as
   * recorded in a report's `to`. Matched as given: no trimming, no wildcards. Nothing found: `[]`.
   */
  search(query: string, limit: number): Promise<string[]>;
  /** Frees connections or timers the store owns. */
  close?(): Promise<void>;
}

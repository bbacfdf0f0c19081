import { Injectable } from '@nestjs/common';
import { isKnownStatus } from '../dlr-status.js';
import type { RecordOutcome } from '../interfaces/dlr-store.interface.js';
import type { RefusalReason } from '../interfaces/refusal-reason.js';

/** One refused webhook request, as `DeliveryReportStats` remembers it. */
export interface RecentRefusal {
  /** When the answer went out. */
  readonly at: Date;
  /** Why it was refused (the `error.type` of the telemetry). */
  readonly reason: RefusalReason;
  /** The client IP as the adapter saw it (`request.ip`). */
  readonly ip: string;
  /** The HTTP status of the answer. */
  readonly httpStatus: number;
}

/** What `DeliveryReportStats.snapshot()` returns: counts since `since`, in this process. */
export interface DeliveryReportStatsSnapshot {
  /** When counting started (the app's start, or the last `reset()`). */
  readonly since: Date;
  /** Webhook requests: answered 2xx, or refused by reason. */
  readonly requests: { readonly accepted: number; readonly refused: Partial<Record<RefusalReason, number>> };
  /** Accepted reports by what the store decided. */
  readonly reports: Readonly<Record<RecordOutcome, number>>;
  /** Changes by status; statuses Messente has not documented count under `_OTHER`. */
  readonly changesByStatus: Readonly<Record<string, number>>;
  /** Handler tries that threw. */
  readonly handlerFailures: number;
  /** Changes a handler left pending after its last try. */
  readonly handlerExhausted: number;
  /** The last 100 refusals, newest first. */
  readonly recentRefusals: readonly RecentRefusal[];
  /**
   * Reports each secret verified, by its position among its account's secrets (`"default"`:
   * `signatureSecrets`, then `credentials.password` when not listed): during a rotation, the
   * old secret's count stops growing once Messente signs with the new one.
   */
  readonly secretsMatched: Readonly<Record<string, readonly number[]>>;
}

/** The key of `secretsMatched` without module option `accounts`. */
export const DEFAULT_ACCOUNT_KEY = 'default';

/** Accounts `secretsMatched` keeps at most, the oldest first dropped: resolver tenants are unbounded. @internal */
export const MAX_MATCHED_ACCOUNTS = 10_000;

/** How many refusals `snapshot().recentRefusals` keeps. @internal */
export const RECENT_REFUSALS = 100;

/**
 * In-process figures of the webhook, for apps without OpenTelemetry and for the board.
 * Fed by the module's single recording point; it keeps counting with `telemetry: false`.
 * Memory is constant: counters per reason, outcome and status, and a ring of 100 refusals.
 */
@Injectable()
export class DeliveryReportStats {
  private since = new Date();
  private accepted = 0;
  private refused = new Map<RefusalReason, number>();
  private reports: Record<RecordOutcome, number> = { change: 0, duplicate: 0, stale: 0, redelivery: 0 };
  private changesByStatus = new Map<string, number>();
  private handlerFailures = 0;
  private handlerExhausted = 0;
  // A fixed ring: `next` is where the next refusal goes, so the newest is just before it.
  private ring: (RecentRefusal | undefined)[] = new Array<RecentRefusal | undefined>(RECENT_REFUSALS);
  private next = 0;
  // Per account, counts by secret position. Arrays are made once per account, so counting a
  // verified report allocates nothing.
  private readonly matched = new Map<string, number[]>();

  /** Counts a request answered 2xx. */
  requestAccepted(): void {
    this.accepted++;
  }

  /** Counts a refused request and remembers it among the recent refusals. */
  requestRefused(reason: RefusalReason, ip: string, httpStatus: number): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.ring[this.next] = { at: new Date(), reason, ip, httpStatus };
    this.next = (this.next + 1) % RECENT_REFUSALS;
  }

  /**
   * Makes an account's counts known before any report (zeros), so that they show from the
   * start; a later call with more secrets extends them.
   */
  declareSecrets(account: string | null, secretCount: number): void {
    const counts = this.countsOf(account ?? DEFAULT_ACCOUNT_KEY, secretCount);
    while (counts.length < secretCount) counts.push(0);
  }

  /** Counts a report verified by the secret at `position` of `account` (null: the top-level secrets). */
  secretMatched(account: string | null, position: number, secretCount: number): void {
    const counts = this.countsOf(account ?? DEFAULT_ACCOUNT_KEY, secretCount);
    counts[position] = (counts[position] ?? 0) + 1;
  }

  private countsOf(key: string, secretCount: number): number[] {
    let counts = this.matched.get(key);
    if (counts === undefined) {
      if (this.matched.size >= MAX_MATCHED_ACCOUNTS) this.matched.delete(this.matched.keys().next().value!);
      counts = new Array<number>(secretCount).fill(0);
      this.matched.set(key, counts);
    }
    return counts;
  }

  /** Counts what the store decided about an accepted report. */
  reportRecorded(outcome: RecordOutcome, status: string): void {
    this.reports[outcome]++;
    if (outcome !== 'change') return;
    const key = isKnownStatus(status) ? status : '_OTHER';
    this.changesByStatus.set(key, (this.changesByStatus.get(key) ?? 0) + 1);
  }

  /** Counts a handler try that threw. */
  handlerFailed(): void {
    this.handlerFailures++;
  }

  /** Counts a change a handler left pending after its last try. */
  handlerGaveUp(): void {
    this.handlerExhausted++;
  }

  /** A copy of the figures now. */
  snapshot(): DeliveryReportStatsSnapshot {
    const recentRefusals: RecentRefusal[] = [];
    for (let i = 1; i <= RECENT_REFUSALS; i++) {
      const refusal = this.ring[(this.next - i + RECENT_REFUSALS) % RECENT_REFUSALS];
      if (refusal === undefined) break;
      recentRefusals.push(refusal);
    }
    return {
      since: this.since,
      requests: { accepted: this.accepted, refused: Object.fromEntries(this.refused) },
      reports: { ...this.reports },
      changesByStatus: Object.fromEntries(this.changesByStatus),
      handlerFailures: this.handlerFailures,
      handlerExhausted: this.handlerExhausted,
      recentRefusals,
      secretsMatched: Object.fromEntries([...this.matched].map(([key, counts]) => [key, [...counts]])),
    };
  }

  /** Starts counting from zero (tests, or an operator's "reset" button). */
  reset(): void {
    this.since = new Date();
    this.accepted = 0;
    this.refused = new Map();
    this.reports = { change: 0, duplicate: 0, stale: 0, redelivery: 0 };
    this.changesByStatus = new Map();
    this.handlerFailures = 0;
    this.handlerExhausted = 0;
    this.ring = new Array<RecentRefusal | undefined>(RECENT_REFUSALS);
    this.next = 0;
    // The accounts stay known; their counts start again.
    for (const counts of this.matched.values()) counts.fill(0);
  }
}

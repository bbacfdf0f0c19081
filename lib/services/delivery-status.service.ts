import { trackingOf } from '../stores/tracking-of.js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { from, lastValueFrom, mergeMap, reduce } from 'rxjs';
import { statusPrecedence } from '../dlr-status.js';
import { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import type { DeliveryHistoryEntry } from '../interfaces/delivery-history-entry.interface.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import type { ReconcileOptions } from '../interfaces/messente-dlr-options.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { validateReconcileOptions } from '../config/resolve-options.js';
import type { DeliveryOutcome } from '../interfaces/delivery-outcome.interface.js';
import { ApiAnswerRecorderService } from './api-answer-recorder.service.js';
import { OutcomeTrackingService, type TrackOptions } from './outcome-tracking.service.js';
import { StoreAvailabilityService } from './store-availability.service.js';
import { errorMessage } from '../utils/error-message.js';

/** How many unsettled messages a pass reads per query it may send, to skip recently asked ones. */
const CANDIDATES_PER_SLOT = 4;

/** Options of `query()` and `current()`. */
export interface StatusQueryOptions {
  /** With module option `accounts`: the account whose credentials ask the API. */
  account?: string;
}

/** What one reconciliation pass did. */
export interface ReconcileResult {
  /** Omnimessages queried. */
  readonly queried: number;
  /** Reports the answers held that the store accepted as changes (handlers ran for them). */
  readonly changes: number;
  /** Queries that failed (logged; the messages are tried again by the next pass). */
  readonly failed: number;
}

/**
 * Answers "what is the status of this message": from the store of received reports, or
 * from Messente's status API. Statuses learnt from the API are recorded like callbacks, so
 * a callback that never arrived still reaches the handlers.
 */
@Injectable()
export class DeliveryStatusService {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** When this process last asked the API about an omnimessage. */
  private readonly lastAsked = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly availability: StoreAvailabilityService,
    private readonly recorder: ApiAnswerRecorderService,
    private readonly tracking: OutcomeTrackingService,
  ) {}

  /**
   * Messente's answer for an omnimessage, straight from the API; records nothing. With module
   * option `accounts`, `account` names whose credentials ask.
   */
  query(omnimessageId: string, options: StatusQueryOptions = {}): Promise<DeliveryReport> {
    return this.recorder.query(omnimessageId, options.account ?? null);
  }

  /** The latest accepted change of a message, from the store, or null. No API call. */
  async latest(messageId: string): Promise<DeliveryStatusChanged | null> {
    const report = await this.availability.call(() => this.options.store.latest(messageId));
    return report ? new DeliveryStatusChanged(report) : null;
  }

  /**
   * Every report recorded for a message, oldest first: changes and stale reports (duplicates
   * are not history). `[]` when the message is unknown. No API call.
   */
  async history(messageId: string): Promise<DeliveryHistoryEntry[]> {
    const reports = await this.availability.call(() => this.options.store.history(messageId));
    return reports.map(toHistoryEntry);
  }

  /** The latest change of each known message of an omnimessage, from the store. No API call. */
  async forOmnimessage(omnimessageId: string): Promise<DeliveryStatusChanged[]> {
    const reports = await this.availability.call(() => this.options.store.forOmnimessage(omnimessageId));
    return reports.map((report) => new DeliveryStatusChanged(report));
  }

  /**
   * The latest change of each message of an omnimessage: from the store when every known
   * message is final, otherwise from the API, whose answer is recorded first (firing the
   * handlers for real changes). The API is asked with `account`'s credentials, by default
   * those of the account its reports came with, or, before any report, the account it was
   * tracked with.
   */
  async current(omnimessageId: string, options: StatusQueryOptions = {}): Promise<DeliveryStatusChanged[]> {
    const known = await this.forOmnimessage(omnimessageId);
    if (known.length > 0 && known.every((event) => event.isFinal)) return known;
    const account =
      options.account ??
      known.find((event) => event.account !== null)?.account ??
      (await this.trackedAccount(omnimessageId));
    await this.recorder.queryAndRecord(omnimessageId, account);
    return this.forOmnimessage(omnimessageId);
  }

  /**
   * Tracks what the app sent, so that its reports settle one outcome for the omnimessage
   * (delivered, failed or overdue, across channel fallback) and `@OnDeliveryOutcome` handlers
   * hear of it. `sent` is Messente's answer to `POST /omnimessage` as the API or the official
   * SDK returns it (or its camelCase form). Reports that arrived before count at once.
   * Resolves to the outcome as of now; rejects with a `TypeError` naming a malformed field,
   * or a `ref` other than the one the omnimessage was tracked with, and stores nothing then.
   */
  track(sent: unknown, options?: TrackOptions): Promise<DeliveryOutcome> {
    return this.tracking.track(sent, options);
  }

  /** The outcome of a tracked omnimessage, or null when it is not tracked. No API call. */
  /** The account a send was tracked with, or null (not tracked, or a store without tracking). */
  private async trackedAccount(omnimessageId: string): Promise<string | null> {
    if (!trackingOf(this.options.store)) return null;
    return (await this.tracking.outcome(omnimessageId))?.account ?? null;
  }

  outcome(omnimessageId: string): Promise<DeliveryOutcome | null> {
    return this.tracking.outcome(omnimessageId);
  }

  /** Tracked omnimessages with this `ref`, newest first (at most `limit`, default 50, up to 500). */
  findByRef(ref: string, limit?: number): Promise<DeliveryOutcome[]> {
    return this.tracking.findByRef(ref, limit);
  }

  /**
   * Queries the API for messages whose latest status is not final and older than
   * `olderThanMs`, with at most `concurrency` requests at once, and records the answers.
   * Messente calls polling costly: keep `limit` small and the interval long.
   */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileResult> {
    validateReconcileOptions(options);
    const { olderThanMs = 15 * 60_000, limit = 100, concurrency = 2 } = options;
    const now = Date.now();
    const unsettled = await this.availability.call(() =>
      this.options.store.unsettled(now - olderThanMs, limit * CANDIDATES_PER_SLOT),
    );
    // Messages the API still reports as not final stay the oldest unsettled ones: skipping
    // those asked about recently lets the others have their turn.
    // Each omnimessage is asked with the credentials of the account its reports came with.
    const accountOf = new Map<string, string | null>();
    for (const report of unsettled) {
      const id = omnimessageIdOf(report);
      if (id !== null && !accountOf.get(id)) accountOf.set(id, report.account ?? null);
    }
    const omnimessageIds = [...accountOf.keys()]
      .filter((id) => (this.lastAsked.get(id) ?? -Infinity) <= now - olderThanMs)
      .slice(0, limit);
    for (const id of omnimessageIds) this.lastAsked.set(id, now);
    const result = await lastValueFrom(
      from(omnimessageIds).pipe(
        mergeMap((id) => this.reconcileOne(id, accountOf.get(id) ?? null), concurrency),
        reduce(
          (total, changes) => ({
            queried: total.queried + 1,
            changes: total.changes + Math.max(changes, 0),
            failed: total.failed + (changes < 0 ? 1 : 0),
          }),
          { queried: 0, changes: 0, failed: 0 },
        ),
      ),
    );
    this.logger.log(
      `Reconciled ${result.queried} omnimessage(s) with the status API: ${result.changes} change(s), ${result.failed} failed`,
    );
    return result;
  }

  /** Changes recorded for one omnimessage, or -1 when its query failed. */
  private async reconcileOne(omnimessageId: string, account: string | null): Promise<number> {
    try {
      return await this.recorder.queryAndRecord(omnimessageId, account);
    } catch (error) {
      // Not "asked" after all: the next pass may try it again.
      this.lastAsked.delete(omnimessageId);
      this.logger.warn(`Reconciling ${omnimessageId} failed: ${errorMessage(error)}`);
      return -1;
    }
  }
}

function toHistoryEntry(report: StoredReport): DeliveryHistoryEntry {
  const status = report.status;
  // The store keeps a report in history as stale exactly when it ranks below the status
  // it found: the same rule read back.
  const stale =
    report.previousStatus !== null && statusPrecedence(status) < statusPrecedence(report.previousStatus);
  return {
    status,
    outcome: stale ? 'stale' : 'change',
    receivedAt: new Date(report.receivedAt),
    raw: report.raw,
    account: report.account ?? null,
  };
}

function omnimessageIdOf(report: StoredReport): string | null {
  const id = report.raw['omnimessage_id'];
  return typeof id === 'string' ? id : null;
}

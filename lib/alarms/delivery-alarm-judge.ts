import type {
  AccountAlarmDetail,
  DeliveryAlarm,
  RefusalsAlarmDetail,
} from '../interfaces/delivery-alarm.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import type { DlrOutcomeStore, StoredOutcome } from '../interfaces/outcome-store.interface.js';
import type { RefusalReason } from '../interfaces/refusal-reason.js';
import type { ResolvedAlarmOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { describeDlrError } from '../payload/describe-dlr-error.js';
import { PendingSends } from './pending-sends.js';
import { RefusalWindow } from './refusal-window.js';

/** The health indicator's refusal window, in ms: fixed, whatever `alarms.windowMs` says. */
export const HEALTH_REFUSAL_WINDOW_MS = 300_000;

/** An `account` alarm clears after this long without another report of its account and reason. */
export const ACCOUNT_ALARM_CLEARS_AFTER_MS = 3_600_000;

/** Account alarms remembered at most (resolver accounts are unbounded); past it the oldest is forgotten. */
export const MAX_ACCOUNT_ALARMS = 10_000;

/** Where transitions go. */
export type AlarmSink = (alarm: DeliveryAlarm) => void;

/** The refusal figures of a span, for the health indicator. */
export interface RefusalFigures {
  readonly requests: number;
  readonly refused: number;
  readonly ratio: number;
  readonly topReason: RefusalReason | null;
}

/**
 * Decides the alarms of one process from what it received: the state of each alarm, and the
 * transitions, each handed to `emit` once. Holds no timer and reads no clock: every input
 * comes with its `now` (ms since the epoch), and `tick()` must be called now and then for
 * what only time changes (a window emptying, an hour without an account report).
 * `DeliveryAlarmsService` drives it; tests drive it directly.
 */
export class DeliveryAlarmJudge {
  /** The one count of requests and refusals: alarm window and health indicator alike. */
  readonly window: RefusalWindow;
  /** Omnimessages this process tracked that may still be pending. */
  readonly pending = new PendingSends();
  private refusalsRaised = false;
  private silenceRaised = false;
  private lastAcceptedAt: number | null = null;
  /** Raised account alarms by account and reason: the latest report of each. */
  private readonly accounts = new Map<string, AccountAlarmDetail>();

  constructor(
    private readonly options: ResolvedAlarmOptions,
    private readonly emit: AlarmSink,
  ) {
    this.window = new RefusalWindow(HEALTH_REFUSAL_WINDOW_MS, options.windowMs);
  }

  /** Whether anything may change with time alone: `tick()` has work only then. */
  get waiting(): boolean {
    return this.refusalsRaised || this.accounts.size > 0 || this.options.silentForMs !== null;
  }

  /** A webhook request answered 2xx: a report reached this process, so silence ends. */
  requestAccepted(now: number): void {
    this.window.requestAccepted(now);
    this.lastAcceptedAt = now;
    if (this.silenceRaised) this.setSilence(false, now);
    this.judgeRefusals(now);
  }

  /** A webhook request refused with `reason`. */
  requestRefused(reason: RefusalReason, now: number): void {
    this.window.requestRefused(reason, now);
    this.judgeRefusals(now);
  }

  /** A status change the store recorded: an account-level reason raises its `account` alarm. */
  reportChanged(report: StoredReport, now: number): void {
    const err = report.raw['err'];
    const described = typeof err === 'number' ? describeDlrError(err) : null;
    if (!described?.accountLevel) return;
    const account = report.account ?? null;
    const key = `${described.reason}\u0000${account ?? ''}`;
    const raised = this.accounts.has(key);
    const detail: AccountAlarmDetail = {
      account,
      reason: described.reason,
      err: described.code,
      messageId: report.messageId,
      lastReportAt: new Date(now),
    };
    // Re-inserted, so that the map stays in order of the latest report: the oldest goes first.
    this.accounts.delete(key);
    this.accounts.set(key, detail);
    if (raised) return;
    if (this.accounts.size > MAX_ACCOUNT_ALARMS) this.accounts.delete(this.accounts.keys().next().value!);
    this.send({ kind: 'account', state: 'raised', since: new Date(now), detail });
  }

  /** A `track()` of this process answered `outcome`. */
  tracked(outcome: StoredOutcome, now: number): void {
    this.pending.tracked(outcome, now);
  }

  /** This process saw a tracked omnimessage's outcome change (to anything but pending). */
  outcomeChanged(outcome: StoredOutcome): void {
    if (outcome.result !== 'pending') this.pending.settled(outcome.omnimessageId);
  }

  /** What only time changes: the refusal window emptying, account alarms an hour old. */
  tick(now: number): void {
    if (this.refusalsRaised) this.judgeRefusals(now);
    for (const [key, detail] of this.accounts) {
      // In order of the latest report: the first one still recent ends the scan.
      const clearsAt = detail.lastReportAt.getTime() + ACCOUNT_ALARM_CLEARS_AFTER_MS;
      if (clearsAt > now) break;
      this.accounts.delete(key);
      this.send({ kind: 'account', state: 'cleared', since: new Date(now), detail });
    }
  }

  /**
   * Judges `silence` (when `alarms.silentForMs` is set): raised when a send this process
   * tracked is pending, as the store confirms, and no request was accepted since `silentForMs`
   * before now, nor since that send was tracked; cleared when nothing is pending any more (or
   * on the next accepted request). Asks the store only when the candidates alone could be
   * silent that long.
   */
  async judgeSilence(store: Pick<DlrOutcomeStore, 'outcome'> | null, now: number): Promise<void> {
    const silentForMs = this.options.silentForMs;
    if (silentForMs === null || !store) return;
    if (!this.silenceRaised) {
      const candidate = this.pending.oldestCandidate(now);
      if (candidate === null || now - this.quietSince(candidate) < silentForMs) return;
    }
    const oldest = await this.pending.oldestPending(store, now);
    if (oldest === 'unknown') return;
    if (this.silenceRaised) {
      if (oldest === null) this.setSilence(false, now);
    } else if (oldest !== null && now - this.quietSince(oldest) >= silentForMs) {
      this.setSilence(true, now);
    }
  }

  /**
   * How long, in ms as of `now`, a tracked send has been pending without an accepted request
   * (as `silence` judges it), or null when nothing this process tracked is pending; `unknown`
   * when the store could not say.
   */
  async silentFor(
    store: Pick<DlrOutcomeStore, 'outcome'> | null,
    now: number,
  ): Promise<number | null | 'unknown'> {
    if (!store || this.pending.oldestCandidate(now) === null) return null;
    const oldest = await this.pending.oldestPending(store, now);
    return oldest === null || oldest === 'unknown' ? oldest : Math.max(0, now - this.quietSince(oldest));
  }

  /** When this process last accepted a request, or null. */
  get lastReportAt(): Date | null {
    return this.lastAcceptedAt === null ? null : new Date(this.lastAcceptedAt);
  }

  /** Requests and refusals of the last `spanMs` (at most 5 minutes), with the top refusal reason. */
  refusals(spanMs: number, now: number): RefusalFigures {
    const { requests, refused } = this.window.counts(spanMs, now);
    const topReason = refused === 0 ? null : this.window.topReason(spanMs, now);
    return { requests, refused, ratio: requests === 0 ? 0 : refused / requests, topReason };
  }

  private judgeRefusals(now: number): void {
    const { refusalRatio, minRequests, windowMs } = this.options;
    const { requests, refused } = this.window.primary(now);
    const ratio = requests === 0 ? 0 : refused / requests;
    const raise = !this.refusalsRaised && requests >= minRequests && ratio > refusalRatio;
    const clear =
      this.refusalsRaised && (refused === 0 || (requests >= minRequests && ratio <= refusalRatio));
    if (!raise && !clear) return;
    this.refusalsRaised = raise;
    const topReason = refused === 0 ? null : this.window.topReason(windowMs, now);
    const detail: RefusalsAlarmDetail = { requests, refused, ratio, topReason, windowMs };
    this.send({ kind: 'refusals', state: raise ? 'raised' : 'cleared', since: new Date(now), detail });
  }

  private setSilence(raised: boolean, now: number): void {
    this.silenceRaised = raised;
    const detail = { silentForMs: this.options.silentForMs!, lastReportAt: this.lastReportAt };
    this.send({ kind: 'silence', state: raised ? 'raised' : 'cleared', since: new Date(now), detail });
  }

  /** Since when nothing was accepted while the send tracked at `trackedAt` was pending. */
  private quietSince(trackedAt: number): number {
    return Math.max(trackedAt, this.lastAcceptedAt ?? -Infinity);
  }

  private send(alarm: DeliveryAlarm): void {
    Object.freeze(alarm.detail);
    this.emit(Object.freeze(alarm));
  }
}

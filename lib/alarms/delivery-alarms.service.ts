import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DeliveryAlarm } from '../interfaces/delivery-alarm.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import type { StoredOutcome } from '../interfaces/outcome-store.interface.js';
import type { RefusalReason } from '../interfaces/refusal-reason.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { trackingOf } from '../stores/tracking-of.js';
import { errorMessage } from '../utils/error-message.js';
import { DeliveryAlarmJudge, type RefusalFigures } from './delivery-alarm-judge.js';

/** How often, at most, time alone is judged (the refusal window emptying, account alarms ageing), in ms. */
const TICK_MS = 1_000;
/** How often, at least: a short `silentForMs` (a test's) is judged a few times within it. */
const MIN_TICK_MS = 25;

/** Receives each alarm transition. */
export type AlarmListener = (alarm: DeliveryAlarm) => void;

/**
 * The alarms of this process (module option `alarms`), and the figures the health indicator
 * reads: fed by `DlrTelemetryService`, the module's one recording point, judged by
 * `DeliveryAlarmJudge`, and handed to listeners (the `@OnDlrAlarm` dispatcher). One timer,
 * unref'd, judges what only time changes; it starts with the app and stops at shutdown.
 * Each instance judges what it receives: an alarm says what this process saw. Internal.
 */
@Injectable()
export class DeliveryAlarmsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly judge: DeliveryAlarmJudge;
  private readonly listeners = new Set<AlarmListener>();
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private judging: Promise<void> | null = null;

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {
    this.judge = new DeliveryAlarmJudge(options.alarms, (alarm) => this.publish(alarm));
    const silentForMs = options.alarms.silentForMs;
    this.tickMs = silentForMs === null ? TICK_MS : Math.max(MIN_TICK_MS, Math.min(TICK_MS, silentForMs / 4));
  }

  /** Adds a listener of every transition from now on; returns its removal. */
  listen(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A webhook request answered 2xx. */
  requestAccepted(): void {
    this.judge.requestAccepted(Date.now());
  }

  /** A webhook request refused. */
  requestRefused(reason: RefusalReason): void {
    this.judge.requestRefused(reason, Date.now());
  }

  /** A status change the store recorded. */
  reportChanged(report: StoredReport): void {
    this.judge.reportChanged(report, Date.now());
  }

  /** A `track()` of this process answered `outcome`. */
  tracked(outcome: StoredOutcome): void {
    this.judge.tracked(outcome, Date.now());
  }

  /** This process saw a tracked omnimessage's outcome change. */
  outcomeChanged(outcome: StoredOutcome): void {
    this.judge.outcomeChanged(outcome);
  }

  /** Requests and refusals of the last `spanMs` (at most 5 minutes) in this process. */
  refusals(spanMs: number): RefusalFigures {
    return this.judge.refusals(spanMs, Date.now());
  }

  /**
   * How long a send this process tracked has been pending without an accepted request, in
   * ms; null when none is pending; `unknown` when the store could not say.
   */
  silentFor(): Promise<number | null | 'unknown'> {
    return this.judge.silentFor(trackingOf(this.options.store), Date.now());
  }

  /** When this process last accepted a request, or null. */
  get lastReportAt(): Date | null {
    return this.judge.lastReportAt;
  }

  /** One judgement of what time changes; the next waits for it (silence may ask the store). */
  tick(): Promise<void> {
    if (!this.judge.waiting) return Promise.resolve();
    this.judging ??= this.tickOnce()
      .catch((error: unknown) => this.logger.warn(`Judging alarms failed: ${errorMessage(error)}`))
      .finally(() => (this.judging = null));
    return this.judging;
  }

  private async tickOnce(): Promise<void> {
    const now = Date.now();
    this.judge.tick(now);
    await this.judge.judgeSilence(trackingOf(this.options.store), now);
  }

  private publish(alarm: DeliveryAlarm): void {
    const { kind, state, detail } = alarm;
    const line = `Alarm ${kind} ${state}: ${JSON.stringify(detail)}`;
    if (state === 'raised') this.logger.warn(line);
    else this.logger.log(line);
    for (const listener of this.listeners) {
      // A transition is judged on the webhook's path: nothing a listener does may break it.
      try {
        listener(alarm);
      } catch (error) {
        this.logger.error(`An alarm listener failed: ${errorMessage(error)}`);
      }
    }
  }
}

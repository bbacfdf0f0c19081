import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKnownStatus } from '../dlr-status.js';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import { DeliveryStatusEvents } from '../events/delivery-status-events.service.js';
import type { PendingKey, StoredReport } from '../interfaces/dlr-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { decodeReportKey, encodeReportKey } from '../stores/report-key.js';
import {
  DlrTelemetryService,
  type HandlerTry,
  type TraceParent,
} from '../telemetry/dlr-telemetry.service.js';
import { AfterIo } from './after-io.js';
import type { DlrHandler } from './dlr-handler.interface.js';
import { DlrBusBridgesService } from './dlr-bus-bridges.service.js';
import { DlrHandlersExplorer } from './dlr-handlers.explorer.js';
import { callWithRetries, type RetryPolicy } from './call-with-retries.js';
import { errorMessage } from '../utils/error-message.js';

/** What this process remembers of a change that is not completed in the store yet. */
interface Progress {
  /** Its key in `progress`, kept so that completing it needs no new string. */
  readonly id: string;
  /** The running dispatch, while there is one. */
  running: Promise<boolean> | null;
  /** True once `changes$` and the buses have seen the change: they never see it twice. */
  published: boolean;
  /** Handlers that already succeeded, once one failed: a redispatch skips them. */
  succeeded: ReadonlySet<DlrHandler> | null;
  /** When the last dispatch ended, to forget changes another instance took over. */
  idleSince: number;
}

/** Changes remembered at most; beyond that the oldest idle ones are forgotten. */
export const MAX_REMEMBERED = 100_000;
/**
 * Past the bound, one pass forgets idle changes down to this many. Walking the map costs its
 * size (more after deletions: V8 skips deleted slots one by one until it rehashes), so the pass
 * must not run per change: with this margin it runs once per ten thousand.
 */
export const REMEMBERED_AFTER_FORGETTING = 90_000;

/**
 * Runs the handlers of each change the store accepted. Changes of one message run one
 * after another, in the order they were handed in; different messages run concurrently.
 * A failing handler is retried with backoff without stopping the others; a change whose
 * handlers all succeeded is completed in the store, otherwise its lease is released so
 * that a sweep, a redelivery or `redispatchPending()` runs it again. Within one process a
 * change is never dispatched twice at once, and a redispatch runs only the handlers that
 * have not succeeded yet.
 */
@Injectable()
export class DlrDispatcherService implements OnModuleInit {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private byStatus = new Map<string, DlrHandler[]>();
  private wildcard: DlrHandler[] = [];
  /** The last change queued for each message, whose run is its chain's tail; removed when the chain drains. */
  private readonly chains = new Map<string, Progress>();
  /** Changes dispatched by this process and not completed, by `encodeReportKey`. */
  private readonly progress = new Map<string, Progress>();
  private stopping = false;
  /** `progress` size that triggers a forgetting pass; raised while every change is running. */
  private forgetAbove = MAX_REMEMBERED;
  /** Settles once the current I/O phase is over; shared by every change dispatched in it. */
  private readonly afterIo = new AfterIo();
  /** How handlers are tried: each try traced and timed, each failure logged with its stack. */
  private readonly retries: RetryPolicy<
    DlrHandler,
    DeliveryStatusChanged,
    TraceParent,
    HandlerTry | undefined
  >;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly explorer: DlrHandlersExplorer,
    private readonly events: DeliveryStatusEvents,
    private readonly bridges: DlrBusBridgesService,
    private readonly telemetry: DlrTelemetryService,
  ) {
    this.retries = {
      attempts: this.options.handlerAttempts,
      retryDelayMs: this.options.handlerRetryDelayMs,
      stopping: () => this.stopping,
      start: (handler, event, parent, attempt) =>
        this.telemetry.startHandler(handler.name, event.messageId, event.status, attempt, parent),
      succeeded: (handlerTry) => this.telemetry.handlerSucceeded(handlerTry),
      failed: (handlerTry, handler, event, error, attempt, last) => {
        this.telemetry.handlerFailed(handlerTry, error);
        this.logger.error(
          `Handler ${handler.name} failed on ${event.messageId} ${event.status} ` +
            `(try ${attempt} of ${this.options.handlerAttempts}${last ? ', the report stays pending' : ''})`,
          stackOf(error),
        );
        if (last) this.telemetry.handlerExhausted(handler.name);
      },
    };
  }

  /**
   * Installs the handlers and buses once every provider exists, before any module's
   * bootstrap hook could record a change (e.g. by calling `DeliveryStatusService.current`).
   */
  async onModuleInit(): Promise<void> {
    this.setHandlers(this.explorer.explore());
    await this.bridges.connect();
  }

  /** True once shutdown began: intake then refuses new reports so Messente retries them. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Queues a change behind the earlier changes of its message. Resolves true when every
   * handler succeeded (the change is then completed in the store), false otherwise; never
   * rejects. `parent` is the intake's record span, for the handler spans.
   */
  dispatch(report: StoredReport, parent?: TraceParent): Promise<boolean> {
    const messageId = report.messageId;
    const id = encodeReportKey(messageId, report.status);
    let progress = this.progress.get(id);
    if (progress?.running) return progress.running;
    if (!progress) {
      progress = { id, running: null, published: false, succeeded: null, idleSince: 0 };
      this.progress.set(id, progress);
    }
    const previous = this.chains.get(messageId)?.running;
    const current = progress;
    const run = previous
      ? previous.then(() => this.run(report, current, parent))
      : this.run(report, current, parent);
    current.running = run;
    this.chains.set(messageId, current);
    if (this.progress.size > this.forgetAbove) this.forgetOldestIdle();
    return run;
  }

  /** Waits for dispatches in flight, at most `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    const running = [...this.progress.values()].map((progress) => progress.running).filter(Boolean);
    const all = Promise.allSettled(running).then(() => true);
    return Promise.race([all, sleep(timeoutMs, false, { ref: false })]);
  }

  /**
   * Forgets idle changes whose last dispatch ended before `before` (ms): another instance
   * completed them, or their pending entry expired. Forgetting costs at most a repeat of
   * handlers that had succeeded, which at-least-once delivery allows.
   */
  forgetIdle(before: number): void {
    for (const [id, progress] of this.progress) {
      if (!progress.running && progress.idleSince < before) this.progress.delete(id);
    }
    this.forgetAbove = Math.max(MAX_REMEMBERED, this.progress.size);
  }

  /** Changes this process remembers now: running ones, and failed ones kept for a redispatch. */
  get remembered(): number {
    return this.progress.size;
  }

  /**
   * Forgets the oldest idle changes down to `REMEMBERED_AFTER_FORGETTING`. When too few are
   * idle (a downstream outage, with every handler retrying), the next pass waits until as many
   * changes again have come in, so that the pass never runs per change.
   */
  private forgetOldestIdle(): void {
    for (const [id, progress] of this.progress) {
      if (this.progress.size <= REMEMBERED_AFTER_FORGETTING) break;
      if (!progress.running) this.progress.delete(id);
    }
    this.forgetAbove = Math.max(
      MAX_REMEMBERED,
      this.progress.size + MAX_REMEMBERED - REMEMBERED_AFTER_FORGETTING,
    );
  }

  /** Gives up the leases of dispatches still running, so another process can take them at once. */
  async releaseInFlight(): Promise<void> {
    const keys = [...this.progress.entries()]
      .filter(([, progress]) => progress.running)
      .map(([id]) => decodeReportKey(id));
    await Promise.allSettled(keys.map((key) => this.options.store.release(key)));
  }

  private setHandlers(handlers: readonly DlrHandler[]): void {
    this.wildcard = handlers.filter((handler) => handler.statuses.has('*'));
    const byStatus = new Map<string, DlrHandler[]>();
    for (const handler of handlers) {
      // A handler listening to both '*' and a status must still run once per change.
      if (handler.statuses.has('*')) continue;
      for (const status of handler.statuses) byStatus.set(status, [...(byStatus.get(status) ?? []), handler]);
    }
    this.byStatus = byStatus;
  }

  private async run(report: StoredReport, progress: Progress, parent: TraceParent): Promise<boolean> {
    // The key alone, not the report: a custom store may keep or serialise what it is given.
    const key: PendingKey = { messageId: report.messageId, status: report.status };
    // After the webhook's answer: Messente's wait must not include the handlers' own work.
    if (this.options.acknowledge === 'after-store') await this.afterIo.next();
    let ok: boolean;
    try {
      const event = new DeliveryStatusChanged(report);
      if (!progress.published) {
        progress.published = true;
        this.publish(event);
      }
      const done = progress.succeeded;
      const all = this.handlersFor(event.status);
      const handlers = done ? all.filter((handler) => !done.has(handler)) : all;
      // Most changes have one handler: it is awaited alone, without Promise.all and its extra promise.
      const results =
        handlers.length === 1
          ? [await this.callWithRetries(handlers[0]!, event, parent)]
          : await Promise.all(handlers.map((handler) => this.callWithRetries(handler, event, parent)));
      ok = results.every(Boolean);
      if (!ok)
        progress.succeeded = new Set([...(done ?? []), ...handlers.filter((_, index) => results[index])]);
    } catch (error) {
      this.logger.error(`Dispatching ${key.messageId} ${key.status} failed`, stackOf(error));
      ok = false;
    }
    try {
      const store = this.options.store;
      await (ok
        ? this.telemetry.store('complete', () => store.complete(key))
        : this.telemetry.store('release', () => store.release(key)));
      if (ok) this.progress.delete(progress.id);
    } catch (error) {
      // Every handler succeeded but the store did not hear it: the change stays pending, and
      // its redispatch must then only complete it, not run or publish anything again.
      if (ok) progress.succeeded = new Set(this.handlersFor(key.status));
      this.logger.error(
        `Could not update pending state of ${key.messageId} ${key.status}: ${errorMessage(error)}`,
      );
    }
    progress.running = null;
    progress.idleSince = Date.now();
    if (this.chains.get(key.messageId) === progress) this.chains.delete(key.messageId);
    return ok;
  }

  private handlersFor(status: string): DlrHandler[] {
    const specific = isKnownStatus(status) ? (this.byStatus.get(status) ?? []) : [];
    return specific.length === 0 ? this.wildcard : [...specific, ...this.wildcard];
  }

  /** Streams and buses are not retried: a failure there is logged and does not hold the change. */
  private publish(event: DeliveryStatusChanged): void {
    try {
      this.events.publish(event);
      this.bridges.publish(event);
    } catch (error) {
      this.logger.error(`Publishing ${event.messageId} ${event.status} failed`, stackOf(error));
    }
  }

  private callWithRetries(
    handler: DlrHandler,
    event: DeliveryStatusChanged,
    parent: TraceParent,
  ): Promise<boolean> {
    return callWithRetries(this.retries, handler, event, parent);
  }
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

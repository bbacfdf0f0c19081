import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { DeliveryOutcomeChanged } from '../events/delivery-outcome-changed.event.js';
import type { OutcomeChange, OutcomeKey } from '../interfaces/outcome-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { toDeliveryOutcome } from '../outcomes/to-delivery-outcome.js';
import { trackingOf } from '../stores/tracking-of.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { errorMessage } from '../utils/error-message.js';
import { AfterIo } from './after-io.js';
import { callWithRetries, type RetryPolicy } from './call-with-retries.js';
import type { OutcomeHandler } from './dlr-handler.interface.js';
import { DlrHandlersExplorer } from './dlr-handlers.explorer.js';

interface Progress {
  running: Promise<boolean> | null;
  /** Handlers that already succeeded, once one failed: a redispatch skips them. */
  succeeded: ReadonlySet<OutcomeHandler> | null;
}

/**
 * Runs the `@OnDeliveryOutcome` handlers of each outcome change the store decided, with the
 * guarantees of status changes: a failing handler is retried alone, a change whose handlers all
 * succeeded is completed in the store, otherwise released for a sweep to dispatch again. The
 * changes of one omnimessage run in the order they were handed in. Outcome changes are rare
 * (one or two per send), so this keeps none of the status dispatcher's hot-path economies.
 */
@Injectable()
export class OutcomeDispatcherService implements OnModuleInit {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** The handlers of each result that fires an event ('*' ones included). */
  private readonly byResult = new Map<string, OutcomeHandler[]>();
  private readonly progress = new Map<string, Progress>();
  /** The last change queued for each omnimessage, whose run is its chain's tail. */
  private readonly chains = new Map<string, Progress>();
  /** Settles once the current I/O phase is over; shared by every change dispatched in it. */
  private readonly afterIo = new AfterIo();

  /** How handlers are tried: each failure counted and logged with its stack. */
  private readonly retries: RetryPolicy<OutcomeHandler, DeliveryOutcomeChanged, undefined, undefined> = {
    attempts: this.options.handlerAttempts,
    retryDelayMs: this.options.handlerRetryDelayMs,
    stopping: () => false,
    start: () => undefined,
    succeeded: () => undefined,
    failed: (_token, handler, event, error, attempt, last) => {
      this.telemetry.handlerFailed(undefined, error);
      const { omnimessageId, result } = event.outcome;
      this.logger.error(
        `Handler ${handler.name} failed on outcome ${result} of ${omnimessageId} ` +
          `(try ${attempt} of ${this.options.handlerAttempts}${last ? ', the change stays pending' : ''})`,
        error instanceof Error ? error.stack : String(error),
      );
      if (last) this.telemetry.handlerExhausted(handler.name);
    },
  };

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly explorer: DlrHandlersExplorer,
    private readonly telemetry: DlrTelemetryService,
  ) {}

  onModuleInit(): void {
    const handlers = this.explorer.exploreOutcomes();
    for (const result of ['delivered', 'failed', 'overdue']) {
      this.byResult.set(
        result,
        handlers.filter((handler) => handler.results.has('*') || handler.results.has(result)),
      );
    }
  }

  /** Queues a change behind the earlier ones of its omnimessage; resolves true when all handlers succeeded. */
  dispatch(change: OutcomeChange): Promise<boolean> {
    const { omnimessageId, result } = change.outcome;
    const id = `${omnimessageId}/${result}`;
    let progress = this.progress.get(id);
    if (progress?.running) return progress.running;
    if (!progress) this.progress.set(id, (progress = { running: null, succeeded: null }));
    const current = progress;
    const previous = this.chains.get(omnimessageId)?.running;
    const run = previous ? previous.then(() => this.run(change, current, id)) : this.run(change, current, id);
    current.running = run;
    this.chains.set(omnimessageId, current);
    return run;
  }

  /** Waits for the dispatches in flight, at most `timeoutMs`; what still runs stays pending in the store. */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.race([
      Promise.allSettled([...this.chains.values()]),
      sleep(timeoutMs, undefined, { ref: false }),
    ]);
  }

  private async run(change: OutcomeChange, progress: Progress, id: string): Promise<boolean> {
    // After the webhook's answer: Messente's wait must not include the handlers' own work.
    if (this.options.acknowledge === 'after-store') await this.afterIo.next();
    const key: OutcomeKey = { omnimessageId: change.outcome.omnimessageId, result: change.outcome.result };
    const event = new DeliveryOutcomeChanged(toDeliveryOutcome(change.outcome), change.previousResult);
    const done = progress.succeeded;
    const all = this.byResult.get(key.result) ?? [];
    const handlers = done ? all.filter((handler) => !done.has(handler)) : all;
    const results =
      handlers.length === 1
        ? [await callWithRetries(this.retries, handlers[0]!, event, undefined)]
        : await Promise.all(
            handlers.map((handler) => callWithRetries(this.retries, handler, event, undefined)),
          );
    const ok = results.every(Boolean);
    if (!ok)
      progress.succeeded = new Set([...(done ?? []), ...handlers.filter((_, index) => results[index])]);
    const store = trackingOf(this.options.store);
    try {
      if (store) await (ok ? store.completeOutcome(key) : store.releaseOutcome(key));
      if (ok) this.progress.delete(id);
    } catch (error) {
      if (ok) progress.succeeded = new Set(all);
      this.logger.error(
        `Could not update the pending outcome ${key.result} of ${key.omnimessageId}: ${errorMessage(error)}`,
      );
    }
    progress.running = null;
    if (this.chains.get(key.omnimessageId) === progress) this.chains.delete(key.omnimessageId);
    return ok;
  }
}

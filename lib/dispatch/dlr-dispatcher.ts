import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKnownStatus } from '../dlr-status.js';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import { DeliveryStatusEvents } from '../events/delivery-status-events.js';
import type { PendingKey, StoredReport } from '../interfaces/dlr-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { DlrHandler } from './dlr-handler.interface.js';
import { DlrBusBridges } from './dlr-bus-bridges.js';

/**
 * Runs the handlers of each change the store accepted. Changes of one message run one
 * after another, in the order they were handed in; different messages run concurrently.
 * A failing handler is retried with backoff without stopping the others; a change whose
 * handlers all succeeded is completed in the store, otherwise its lease is released so
 * that a sweep, a redelivery or `redispatchPending()` runs it again.
 */
@Injectable()
export class DlrDispatcher {
  private readonly logger = new Logger('MessenteDlr');
  private byStatus = new Map<string, DlrHandler[]>();
  private wildcard: DlrHandler[] = [];
  /** Tail of each message's chain; removed when the chain drains. */
  private readonly chains = new Map<string, Promise<boolean>>();
  private readonly inFlight = new Map<Promise<boolean>, PendingKey>();
  private stopping = false;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly events: DeliveryStatusEvents,
    private readonly bridges: DlrBusBridges,
  ) {}

  /** Installs the discovered handlers. */
  setHandlers(handlers: readonly DlrHandler[]): void {
    this.wildcard = handlers.filter((handler) => handler.statuses.has('*'));
    const byStatus = new Map<string, DlrHandler[]>();
    for (const handler of handlers) {
      for (const status of handler.statuses) {
        if (status === '*') continue;
        // A handler listening to both '*' and a status must still run once per change.
        if (handler.statuses.has('*')) continue;
        byStatus.set(status, [...(byStatus.get(status) ?? []), handler]);
      }
    }
    this.byStatus = byStatus;
  }

  /** Number of dispatches not finished yet. */
  get pendingDispatches(): number {
    return this.inFlight.size;
  }

  /**
   * Queues a change behind the earlier changes of its message. Resolves true when every
   * handler succeeded (the change is then completed in the store), false otherwise.
   */
  dispatch(report: StoredReport): Promise<boolean> {
    const messageId = String(report.raw['message_id']);
    const previous = this.chains.get(messageId);
    const run = previous ? previous.then(() => this.run(report)) : this.run(report);
    this.chains.set(messageId, run);
    this.inFlight.set(run, { messageId, status: String(report.raw['status']) });
    void run.finally(() => {
      this.inFlight.delete(run);
      if (this.chains.get(messageId) === run) this.chains.delete(messageId);
    });
    return run;
  }

  /** Waits for dispatches in flight, at most `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    const all = Promise.allSettled([...this.inFlight.keys()]).then(() => true);
    const timer = sleep(timeoutMs, false, { ref: false });
    return Promise.race([all, timer]);
  }

  /** Gives up the leases of dispatches still running, so another process can take them at once. */
  async releaseInFlight(): Promise<void> {
    const keys = [...this.inFlight.values()];
    await Promise.allSettled(keys.map((key) => this.options.store.release(key)));
  }

  private async run(report: StoredReport): Promise<boolean> {
    const event = new DeliveryStatusChanged(report);
    const key: PendingKey = { messageId: event.messageId, status: event.status };
    let ok = this.publish(event);
    const results = await Promise.all(
      this.handlersFor(event.status).map((handler) => this.callWithRetries(handler, event)),
    );
    ok = ok && results.every(Boolean);
    try {
      if (ok) await this.options.store.complete(key);
      else await this.options.store.release(key);
    } catch (error) {
      // The change stays pending under its lease; a later sweep picks it up.
      this.logger.error(
        `Could not update pending state of ${key.messageId} ${key.status}: ${describe(error)}`,
      );
    }
    return ok;
  }

  private handlersFor(status: string): DlrHandler[] {
    const specific = isKnownStatus(status) ? (this.byStatus.get(status) ?? []) : [];
    return specific.length === 0 ? this.wildcard : [...specific, ...this.wildcard];
  }

  private publish(event: DeliveryStatusChanged): boolean {
    try {
      this.events.publish(event);
      this.bridges.publish(event);
      return true;
    } catch (error) {
      this.logger.error(`Publishing ${event.messageId} ${event.status} failed`, stackOf(error));
      return false;
    }
  }

  private async callWithRetries(handler: DlrHandler, event: DeliveryStatusChanged): Promise<boolean> {
    const attempts = this.options.handlerAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        await handler.call(event);
        return true;
      } catch (error) {
        const last = attempt >= attempts || this.stopping;
        this.logger.error(
          `Handler ${handler.name} failed on ${event.messageId} ${event.status} ` +
            `(try ${attempt} of ${attempts}${last ? ', the report stays pending' : ''})`,
          stackOf(error),
        );
        if (last) return false;
        await sleep(this.options.handlerRetryDelayMs * 4 ** (attempt - 1));
      }
    }
  }
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

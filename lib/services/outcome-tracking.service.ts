import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { DeliveryOutcome } from '../interfaces/delivery-outcome.interface.js';
import type { OutcomeChange } from '../interfaces/outcome-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { OutcomeDispatcherService } from '../dispatch/outcome-dispatcher.service.js';
import { toDeliveryOutcome } from '../outcomes/to-delivery-outcome.js';
import { parseRecipient, parseRef, parseSendAnswer } from '../payload/send-answer.js';
import { noTrackingMessage, trackingOf } from '../stores/tracking-of.js';
import { errorMessage } from '../utils/error-message.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { ApiAnswerRecorderService } from './api-answer-recorder.service.js';
import { DlrAccountsService } from '../accounts/dlr-accounts.service.js';
import { StoreAvailabilityService } from './store-availability.service.js';

/** Options of `DeliveryStatusService.track()`. */
export interface TrackOptions {
  /** The app's own reference (1–255 characters), written once: an order, a login code. */
  ref?: string;
  /** The recipient, when the send answer does not say it. */
  to?: string;
  /** When a still pending outcome becomes overdue; default now + `tracking.overdueAfterMs`. */
  deadline?: Date;
  /**
   * The account it was sent with (module option `accounts`): the overdue check asks the status
   * API with its credentials. One of the list's ids, or with the resolver form any valid id.
   */
  account?: string;
}

/** Candidates and pending changes one sweep takes at most. */
const SWEEP_BATCH = 100;

/**
 * Outcomes of what the app sent: `track()` keeps a send, the store links its reports to it,
 * and a sweep makes outcomes overdue (asking the status API once first when credentials are
 * set) and dispatches outcome changes whose handlers have not all succeeded.
 */
@Injectable()
export class OutcomeTrackingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly availability: StoreAvailabilityService,
    private readonly dispatcher: OutcomeDispatcherService,
    private readonly recorder: ApiAnswerRecorderService,
    private readonly accounts: DlrAccountsService,
    private readonly telemetry: DlrTelemetryService,
  ) {}

  /** See `DeliveryStatusService.track()`. */
  async track(sent: unknown, options: TrackOptions = {}): Promise<DeliveryOutcome> {
    const answer = parseSendAnswer(sent);
    const ref = parseRef(options.ref);
    const to = parseRecipient(options.to) ?? answer.to;
    // Remembered so that the overdue check asks with this account's credentials.
    const account = this.accounts.checkId(options.account);
    const deadline = options.deadline ?? new Date(Date.now() + this.options.tracking.overdueAfterMs);
    if (!(deadline instanceof Date) || Number.isNaN(deadline.getTime()))
      throw new TypeError('deadline must be a valid Date');
    const store = this.store();
    const now = Date.now();
    const result = await this.availability.call(() =>
      store.track(
        { ...answer, ref, to, account, deadline: deadline.getTime() },
        now,
        this.options.pendingLeaseMs,
      ),
    );
    if (result.status === 'ref_conflict') {
      throw new TypeError(
        `ref: omnimessage ${answer.omnimessageId} is tracked with another ref (a ref is written once)`,
      );
    }
    this.telemetry.tracked(answer.messages, to, now);
    this.telemetry.outcomeTracked(result.outcome);
    if (result.change) {
      this.telemetry.outcomeChanged(result.change);
      void this.dispatcher.dispatch(result.change);
    }
    return toDeliveryOutcome(result.outcome);
  }

  /** See `DeliveryStatusService.outcome()`. */
  async outcome(omnimessageId: string): Promise<DeliveryOutcome | null> {
    const store = this.store();
    const stored = await this.availability.call(() => store.outcome(omnimessageId));
    return stored ? toDeliveryOutcome(stored) : null;
  }

  /** See `DeliveryStatusService.findByRef()`. */
  async findByRef(ref: string, limit = 50): Promise<DeliveryOutcome[]> {
    const store = this.store();
    const found = await this.availability.call(() => store.findByRef(parseRef(ref)!, limit));
    return found.map(toDeliveryOutcome);
  }

  onApplicationBootstrap(): void {
    const interval = this.options.tracking.sweepIntervalMs;
    if (interval <= 0 || !trackingOf(this.options.store)) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * One sweep: overdue candidates this instance won (asking the API first when it can), then
   * pending outcome changes whose lease ran out. Never rejects: failures are logged.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce()
      .catch((error: unknown) => this.logger.warn(`Outcome sweep failed: ${errorMessage(error)}`))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const store = trackingOf(this.options.store);
    if (!store) return;
    const lease = this.options.pendingLeaseMs;
    const started = Date.now();
    const candidates = await store.claimOverdue(started, SWEEP_BATCH, lease);
    const changes: OutcomeChange[] = [];
    for (const candidate of candidates) {
      await this.askOnce(candidate.omnimessageId, candidate.account);
      const change = await store.markOverdue(candidate.omnimessageId, Date.now(), lease);
      if (change) {
        this.telemetry.outcomeChanged(change);
        changes.push(change);
      }
    }
    changes.push(...(await store.claimPendingOutcomes(SWEEP_BATCH, lease, started)));
    await Promise.all(changes.map((change) => this.dispatcher.dispatch(change)));
  }

  /**
   * Asks the status API about an overdue candidate, with its account's credentials, when there
   * are any; an error or a 404 does not hold it back.
   */
  private async askOnce(omnimessageId: string, account: string | null): Promise<void> {
    try {
      if (!(await this.accounts.credentialsFor(account))) return;
      await this.recorder.queryAndRecord(omnimessageId, account);
    } catch (error) {
      this.logger.warn(`Status of overdue ${omnimessageId} unknown to the API: ${errorMessage(error)}`);
    }
  }

  private store() {
    const store = trackingOf(this.options.store);
    if (!store) throw new Error(noTrackingMessage(this.options.store));
    return store;
  }
}

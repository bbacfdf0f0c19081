import {
  Inject,
  Injectable,
  InternalServerErrorException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import { DlrDispatcherService } from '../dispatch/dlr-dispatcher.service.js';
import { OutcomeDispatcherService } from '../dispatch/outcome-dispatcher.service.js';
import type {
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { DlrPayload } from '../payload/dlr-payload.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { refusal } from '../errors/refusal.js';
import { StoreAvailabilityService } from './store-availability.service.js';

/** What the webhook answers with a 200. */
export interface DlrAnswer {
  /** What the store decided: `change`, `duplicate`, `stale` or `redelivery`. */
  readonly outcome: RecordOutcome;
}

/** A report the store has decided about. */
export interface RecordedReport {
  readonly outcome: RecordOutcome;
  /** Settles when the change's handlers have run; null when it was not a change. */
  readonly handled: Promise<boolean> | null;
}

/**
 * The step between the validated body and the handlers: record the report, then dispatch
 * it, answering before or after the handlers as `acknowledge` says.
 */
@Injectable()
export class DlrIntakeService {
  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly availability: StoreAvailabilityService,
    private readonly dispatcher: DlrDispatcherService,
    private readonly telemetry: DlrTelemetryService,
    private readonly outcomes: OutcomeDispatcherService,
  ) {}

  /**
   * Records one report and starts its dispatch when it is a change. `handled` settles when
   * the handlers have run: true when all succeeded, null when nothing was dispatched.
   * Throws 503 when the store cannot record it. `account`: whose secret verified it (module
   * option `accounts`), kept with the report; null without accounts.
   */
  async record(payload: DlrPayload, account: string | null = null): Promise<RecordedReport> {
    if (this.dispatcher.isStopping) {
      // Handlers could no longer run here: refuse, so Messente tries again (another instance).
      throw refusal('shutting_down', new ServiceUnavailableException('Shutting down, try again later'));
    }
    const { store, pendingLeaseMs } = this.options;
    const status = payload['status'] as string;
    const trace = this.telemetry.startRecord(payload['message_id'] as string, status);
    let result: RecordResult;
    try {
      result = await this.availability.call(
        () =>
          this.telemetry.store('record', () =>
            // Without an account the store is called as before accounts existed.
            account === null
              ? store.record(payload, Date.now(), pendingLeaseMs)
              : store.record(payload, Date.now(), pendingLeaseMs, account),
          ),
        // Recorded after the 503 went out: the change is real, so its handlers run anyway.
        (late) => {
          this.telemetry.lateRecorded(late.outcome, status);
          this.telemetry.changed(late);
          if (late.report) this.dispatchLate(late.report);
          if (late.outcomeChange) void this.outcomes.dispatch(late.outcomeChange);
        },
      );
    } catch (error) {
      this.telemetry.recordFailed(trace, error);
      throw error;
    }
    this.telemetry.recorded(trace, result.outcome, status);
    this.telemetry.changed(result);
    const handled = result.report ? this.dispatcher.dispatch(result.report, trace) : null;
    if (!result.outcomeChange) return { outcome: result.outcome, handled };
    // The change settled a tracked send: its outcome handlers run too, and count as handlers
    // where the answer waits for them.
    const outcomeHandled = this.outcomes.dispatch(result.outcomeChange);
    if (this.options.acknowledge === 'after-store') return { outcome: result.outcome, handled };
    return {
      outcome: result.outcome,
      handled: Promise.all([handled ?? true, outcomeHandled]).then(([a, b]) => a && b),
    };
  }

  private dispatchLate(report: StoredReport): void {
    if (!this.dispatcher.isStopping) void this.dispatcher.dispatch(report);
    // Shutting down: leave it to the next run, at once rather than after its lease.
    else void this.options.store.release(keyOf(report)).catch(() => undefined);
  }

  /** Records one validated report and answers as `acknowledge` says. */
  async accept(payload: DlrPayload, account: string | null = null): Promise<DlrAnswer> {
    const { outcome, handled } = await this.record(payload, account);
    if (this.options.acknowledge === 'after-handlers' && handled && !(await handled)) {
      throw refusal(
        'handler_failed',
        new InternalServerErrorException(
          'A handler failed; the report stays pending and runs again when redelivered',
        ),
      );
    }
    return { outcome };
  }
}

/** The key alone, not the report: a custom store may keep or serialise what it is given. */
function keyOf(report: StoredReport): PendingKey {
  return { messageId: report.messageId, status: report.status };
}

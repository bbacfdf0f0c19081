import { Inject, Injectable, Logger } from '@nestjs/common';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { DlrDispatcherService } from './dlr-dispatcher.service.js';

const CLAIM_BATCH = 100;
/** The least time a change stays remembered after its last dispatch. */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * Dispatches pending reports again: those a previous run left (durable stores) and those
 * whose lease ran out. `DlrLifecycleService` calls it at startup and on its sweep interval; an
 * app may call `redispatchPending()` itself (the board's redispatch button does).
 */
@Injectable()
export class DlrPendingService {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private sweeping: Promise<number> | null = null;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly dispatcher: DlrDispatcherService,
    private readonly telemetry: DlrTelemetryService,
  ) {}

  /**
   * Dispatches again every pending report whose lease has run out or was released (its
   * handlers failed, or the process that held it stopped). Resolves with how many were
   * dispatched, once their handlers have run.
   */
  redispatchPending(): Promise<number> {
    // One sweep at a time: overlapping sweeps would only contend for the same leases.
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    // Only leases that ended before this sweep began: a report whose handlers fail again is
    // released during the sweep and must wait for the next one, not loop in this one.
    const startedAt = Date.now();
    // A change idle here for this long was completed elsewhere or expired; one still pending
    // for this process is claimed back by a sweep long before, its progress intact.
    this.dispatcher.forgetIdle(startedAt - Math.max(10 * this.options.pendingLeaseMs, FORGET_AFTER_MS));
    let total = 0;
    for (;;) {
      if (this.dispatcher.isStopping) return total;
      const { store, pendingLeaseMs } = this.options;
      const claimed = await this.telemetry.store('claim_pending', () =>
        store.claimPending(CLAIM_BATCH, pendingLeaseMs, startedAt),
      );
      if (claimed.length === 0) return total;
      this.logger.log(`Dispatching ${claimed.length} pending delivery report(s) again`);
      await Promise.all(claimed.map((report) => this.dispatcher.dispatch(report)));
      total += claimed.length;
      if (claimed.length < CLAIM_BATCH) return total;
    }
  }
}

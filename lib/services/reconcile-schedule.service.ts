import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { DeliveryStatusService } from './delivery-status.service.js';
import { errorMessage } from '../utils/error-message.js';

/** Runs `DeliveryStatusService.reconcile()` on the interval set in `reconcile`, when set. */
@Injectable()
export class ReconcileScheduleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly statuses: DeliveryStatusService,
  ) {}

  onApplicationBootstrap(): void {
    const schedule = this.options.reconcile;
    if (!schedule) return;
    this.logger.log(
      `Reconciling unsettled messages every ${schedule.intervalMs} ms (at most ${schedule.limit ?? 100} per pass)`,
    );
    this.timer = setInterval(() => void this.tick(), schedule.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    // A slow pass must not overlap the next one: polling is costly for Messente.
    if (this.running) return;
    this.running = true;
    try {
      await this.statuses.reconcile(this.options.reconcile ?? {});
    } catch (error) {
      this.logger.warn(`Reconciliation pass failed: ${errorMessage(error)}`);
    } finally {
      this.running = false;
    }
  }
}

import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { errorMessage } from '../utils/error-message.js';
import { DlrDispatcherService } from './dlr-dispatcher.service.js';
import { DlrPendingService } from './dlr-pending.service.js';
import { OutcomeDispatcherService } from './outcome-dispatcher.service.js';

/**
 * The module's start and stop, kept out of the services apps inject: at startup it dispatches
 * what an earlier run left pending and starts the sweep; at shutdown it waits (bounded) for
 * handlers in flight, releases what still runs, and closes the store. Internal.
 */
@Injectable()
export class DlrLifecycleService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly pending: DlrPendingService,
    private readonly dispatcher: DlrDispatcherService,
    private readonly outcomes: OutcomeDispatcherService,
  ) {}

  /** Dispatches what an earlier run left pending, and starts the sweep. */
  onApplicationBootstrap(): void {
    // In the background: a large backlog left by a previous run must not delay startup.
    void this.pending
      .redispatchPending()
      .catch((error: unknown) =>
        this.logger.error(`Could not read pending reports at startup: ${errorMessage(error)}`),
      );
    const interval = this.options.pendingSweepIntervalMs;
    if (interval > 0) {
      this.sweepTimer = setInterval(
        () => void this.pending.redispatchPending().catch(() => undefined),
        interval,
      );
      this.sweepTimer.unref();
    }
  }

  /** Stops the sweep and waits (bounded) for handlers in flight; releases what is still running. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    const drained = await this.dispatcher.drain(this.options.shutdownTimeoutMs);
    if (!drained) {
      this.logger.warn(
        `Handlers still running after ${this.options.shutdownTimeoutMs} ms at shutdown; ` +
          'their reports stay pending and are dispatched again by the next run.',
      );
      await this.dispatcher.releaseInFlight();
    }
    await this.outcomes.drain(this.options.shutdownTimeoutMs);
  }

  /** Closes the store. */
  async onApplicationShutdown(): Promise<void> {
    await this.options.store.close?.();
  }
}

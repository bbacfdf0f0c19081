import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';

/** Retention statements per run at most: a backlog is worked off over several runs. */
const PRUNE_BATCHES_PER_RUN = 200;

/**
 * Deletes up to `batchSize` messages, and as many of each other kind of row retention keeps in
 * bounds (tracked outcomes, the delivery analytics' messages and buckets), silent since before
 * `olderThan` (ms); resolves with how many of each (`messages` the history's messages).
 */
export type PruneBatch = (
  olderThan: number,
  batchSize: number,
) => Promise<{ readonly messages: number; readonly [kind: string]: number }>;

/**
 * `PostgresDlrStore`'s retention: runs of small delete batches, on a timer (the first within a
 * minute of start, so that instances started together spread out) or on demand, one run at a
 * time. Stopping waits for the run in flight, which ends after its current batch.
 */
export class PostgresRetention {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly pruneBatch: PruneBatch,
    private readonly retentionMs: number,
    private readonly batchSize: number,
  ) {}

  /** Runs every `intervalMs` from now on; 0 never. */
  start(intervalMs: number): void {
    if (intervalMs > 0) this.schedule(Math.min(intervalMs, Math.random() * 60_000), intervalMs);
  }

  /** One run now, or the one in flight; resolves with how many messages were deleted. */
  run(): Promise<number> {
    this.running ??= this.batches().finally(() => (this.running = null));
    return this.running;
  }

  /** No more runs; resolves once the run in flight, if any, has ended. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number, intervalMs: number): void {
    this.timer = setTimeout(() => {
      void this.run()
        .catch((error: unknown) =>
          this.logger.warn(`PostgresDlrStore: retention did not run: ${errorMessage(error)}`),
        )
        .finally(() => {
          if (this.timer) this.schedule(intervalMs, intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async batches(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < PRUNE_BATCHES_PER_RUN && !this.stopped; batch++) {
      const deleted = await this.pruneBatch(Date.now() - this.retentionMs, this.batchSize);
      total += deleted.messages;
      // Any backlog that filled its batch may have more.
      if (Object.values(deleted).every((count) => count < this.batchSize)) break;
    }
    return total;
  }
}

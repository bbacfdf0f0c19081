import { Injectable, Logger, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { refusal } from '../errors/refusal.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';

/** How long intake waits for the store before answering 503: Messente must hear back within 2 s. */
export const STORE_DEADLINE_MS = 1_500;
const WATCHDOG_INTERVAL_MS = 100;

interface Waiting {
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

/**
 * Runs store calls under a deadline and turns failures into 503s. An outage is logged once
 * when it starts and once when it ends, not once per request, so a Redis restart does not
 * flood the logs. One watchdog timer enforces every deadline: a timer per report would cost
 * more than an in-memory store's whole decision.
 */
@Injectable()
export class StoreAvailabilityService implements OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly waiting = new Set<Waiting>();
  private readonly watchdog: NodeJS.Timeout;
  private down = false;

  constructor() {
    this.watchdog = setInterval(() => this.expire(), WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
  }

  /**
   * The result of `operation`, or a 503 when the store failed or missed the deadline. A
   * result that arrives after the deadline goes to `late`: the store did its work, and the
   * caller may still have to act on it (dispatch a change it recorded, say).
   */
  call<T>(operation: () => Promise<T>, late?: (result: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = {
        deadline: Date.now() + STORE_DEADLINE_MS,
        reject: (error) => this.fail(error, reject),
      };
      this.waiting.add(entry);
      let pending: Promise<T>;
      try {
        pending = Promise.resolve(operation());
      } catch (error) {
        // A store that throws synchronously fails like one that rejects.
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => {
          if (!this.waiting.delete(entry)) return this.deliverLate(late, result);
          this.recovered();
          resolve(result);
        },
        (error: unknown) => {
          if (this.waiting.delete(entry)) this.fail(error, reject);
        },
      );
    });
  }

  private deliverLate<T>(late: ((result: T) => void) | undefined, result: T): void {
    try {
      late?.(result);
    } catch (error) {
      this.logger.error(`Handling a late store answer failed: ${errorMessage(error)}`);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.watchdog);
  }

  private expire(): void {
    const now = Date.now();
    for (const entry of this.waiting) {
      if (entry.deadline > now) continue;
      this.waiting.delete(entry);
      entry.reject(new Error(`no answer within ${STORE_DEADLINE_MS} ms`));
    }
  }

  private recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log('The delivery-report store is available again');
  }

  private fail(error: unknown, reject: (error: Error) => void): void {
    if (!this.down) {
      this.down = true;
      this.logger.error(
        `The delivery-report store is unavailable; reports are answered with 503 until it is back: ${errorMessage(
          error,
        )}`,
      );
    }
    reject(
      refusal(
        'store_unavailable',
        new ServiceUnavailableException('Delivery-report store unavailable, try again later'),
      ),
    );
  }
}

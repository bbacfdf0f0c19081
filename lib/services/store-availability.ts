import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';

/** How long intake waits for the store before answering 503: Messente must hear back within 2 s. */
export const STORE_DEADLINE_MS = 1_500;

/**
 * Runs store calls under a deadline and turns failures into 503s. An outage is logged once
 * when it starts and once when it ends, not once per request, so a Redis restart does not
 * flood the logs.
 */
@Injectable()
export class StoreAvailability {
  private readonly logger = new Logger('MessenteDlr');
  private down = false;

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {}

  /** The result of `operation`, or a 503 when the store failed or missed the deadline. */
  async call<T>(operation: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${STORE_DEADLINE_MS} ms`)),
        STORE_DEADLINE_MS,
      );
    });
    try {
      const result = await Promise.race([operation(), deadline]);
      if (this.down) {
        this.down = false;
        this.logger.log('The delivery-report store is available again');
      }
      return result;
    } catch (error) {
      if (!this.down) {
        this.down = true;
        this.logger.error(
          `The delivery-report store is unavailable; reports are answered with 503 until it is back: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
      throw new ServiceUnavailableException('Delivery-report store unavailable, try again later');
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while the last store call failed. */
  get isDown(): boolean {
    return this.down;
  }

  /** The store the options resolved to. */
  get store(): ResolvedDlrOptions['store'] {
    return this.options.store;
  }
}

import { Inject, Injectable, InternalServerErrorException } from '@nestjs/common';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import { DlrDispatcher } from '../dispatch/dlr-dispatcher.js';
import type { RecordOutcome } from '../interfaces/dlr-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { DlrPayload } from '../pipes/dlr-payload.pipe.js';
import { StoreAvailability } from './store-availability.js';

/** What the webhook answers with a 200. */
export interface DlrAnswer {
  readonly outcome: RecordOutcome;
}

/**
 * The step between the validated body and the handlers: record the report, then dispatch
 * it, answering before or after the handlers as `acknowledge` says.
 */
@Injectable()
export class DlrIntakeService {
  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly availability: StoreAvailability,
    private readonly dispatcher: DlrDispatcher,
  ) {}

  /** Records one validated report; throws 503 when the store cannot record it. */
  async accept(payload: DlrPayload): Promise<DlrAnswer> {
    const { store, pendingLeaseMs } = this.options;
    const { outcome, report } = await this.availability.call(() =>
      store.record(payload, Date.now(), pendingLeaseMs),
    );
    if (!report) return { outcome };
    const handled = this.dispatcher.dispatch(report);
    if (this.options.acknowledge === 'after-handlers' && !(await handled)) {
      throw new InternalServerErrorException(
        'A handler failed; the report stays pending and runs again when redelivered',
      );
    }
    return { outcome };
  }
}

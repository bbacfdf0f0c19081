import { Injectable } from '@nestjs/common';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import { isValidDlrCallback } from '../payload/is-valid-dlr-callback.js';
import { toCallbackPayload } from '../payload/to-callback-payload.js';
import { DlrIntakeService } from './dlr-intake.service.js';
import { MessenteApiClient } from './messente-api.client.js';
import { DlrAccountsService } from '../accounts/dlr-accounts.service.js';

/**
 * Records what the status API answered as if Messente had posted it, so that a polled status
 * is decided, stored and dispatched exactly like a received one: by `current()`,
 * reconciliation and the overdue sweep.
 */
@Injectable()
export class ApiAnswerRecorderService {
  constructor(
    private readonly api: MessenteApiClient,
    private readonly intake: DlrIntakeService,
    private readonly accounts: DlrAccountsService,
  ) {}

  /**
   * Asks the API about an omnimessage with `account`'s credentials (null: the top-level ones)
   * and records the answer as that account's; resolves to the changes it held.
   */
  async queryAndRecord(omnimessageId: string, account: string | null = null): Promise<number> {
    return this.record(await this.query(omnimessageId, account), account);
  }

  /** Asks the API about an omnimessage with `account`'s credentials; records nothing. */
  async query(omnimessageId: string, account: string | null = null): Promise<DeliveryReport> {
    const credentials = await this.accounts.credentialsFor(account);
    return this.api.query(omnimessageId, { credentials, account });
  }

  /** Records an API answer; resolves to how many of its reports the store accepted as changes. */
  async record(report: DeliveryReport, account: string | null = null): Promise<number> {
    let changes = 0;
    for (const result of report.statuses) {
      const payload = toCallbackPayload(report, result);
      // Held to the same rules as a callback: a status the API wrote oddly is not recorded.
      if (!payload || !isValidDlrCallback(payload)) continue;
      const { outcome } = await this.intake.record(payload, account);
      if (outcome === 'change') changes++;
    }
    return changes;
  }
}

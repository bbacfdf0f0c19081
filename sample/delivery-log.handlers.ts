import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryOutcomeChanged,
  DeliveryStatusChanged,
  OnDeliveryOutcome,
  OnDlrStatus,
} from 'nestjs-messente-dlr';

/** Logs every delivery-status change (failures with their error code) and every outcome of a tracked send. */
@Injectable()
export class DeliveryLogHandlers {
  private readonly logger = new Logger('Deliveries');

  @OnDlrStatus('*')
  logChange(event: DeliveryStatusChanged): void {
    this.logger.log(
      `${event.channel ?? '?'} ${event.messageId}: ${event.previousStatus ?? '(new)'} -> ${event.status}`,
    );
  }

  @OnDlrStatus(['FAILED', 'UNDELIV', 'REJECTD', 'EXPIRED', 'NACK'])
  logFailure(event: DeliveryStatusChanged): void {
    this.logger.warn(`${event.messageId} to ${event.to} failed: err ${event.err} ${event.error ?? ''}`);
  }

  @OnDeliveryOutcome('*')
  logOutcome({ outcome, previousResult }: DeliveryOutcomeChanged): void {
    const via = outcome.deliveredVia ? ` via ${outcome.deliveredVia}` : '';
    const reasons = outcome.messages.map((message) => message.reason).filter(Boolean);
    const why = reasons.length > 0 ? ` (${reasons.join(', ')})` : '';
    this.logger.log(
      `${outcome.ref ?? outcome.omnimessageId}: ${previousResult} -> ${outcome.result}${via}${why}`,
    );
  }
}

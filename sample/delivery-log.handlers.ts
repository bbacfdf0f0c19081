import { Injectable, Logger } from '@nestjs/common';
import { DeliveryStatusChanged, OnDlrStatus } from 'nestjs-messente-dlr';

/** Logs every delivery-status change; failures get their error code. */
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
}

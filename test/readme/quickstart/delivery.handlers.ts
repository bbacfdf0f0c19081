import { Injectable, Logger } from '@nestjs/common';
import { DeliveryStatusChanged, OnDlrStatus } from 'nestjs-messente-dlr';

@Injectable()
export class DeliveryHandlers {
  private readonly logger = new Logger(DeliveryHandlers.name);

  @OnDlrStatus('DELIVRD')
  onDelivered(event: DeliveryStatusChanged) {
    this.logger.log(`${event.messageId} delivered to ${event.to} via ${event.channel}`);
  }

  @OnDlrStatus(['FAILED', 'UNDELIV', 'REJECTD', 'EXPIRED'])
  async onFailed(event: DeliveryStatusChanged) {
    // awaited; a throw is retried, and the report stays pending until it succeeds
    this.logger.warn(`${event.messageId} not delivered: ${event.status} (err ${event.err})`);
  }
}

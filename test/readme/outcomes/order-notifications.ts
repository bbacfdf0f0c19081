import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryOutcomeChanged,
  DeliveryStatusService,
  OnDeliveryOutcome,
  describeDlrError,
} from 'nestjs-messente-dlr';

@Injectable()
export class OrderNotifications {
  private readonly logger = new Logger(OrderNotifications.name);
  readonly log: string[] = [];

  constructor(private readonly statuses: DeliveryStatusService) {}

  /** Call it with Messente's answer to POST /omnimessage, from any client or the official SDK. */
  async sent(orderId: string, answer: unknown): Promise<void> {
    await this.statuses.track(answer, { ref: `order-${orderId}` });
  }

  @OnDeliveryOutcome('delivered')
  onDelivered({ outcome }: DeliveryOutcomeChanged): void {
    this.log.push(`${outcome.ref} delivered via ${outcome.deliveredVia}`);
  }

  @OnDeliveryOutcome(['failed', 'overdue'])
  onNotReached({ outcome }: DeliveryOutcomeChanged): void {
    const last = outcome.messages.at(-1);
    const error = describeDlrError(last?.err ?? null);
    if (error?.accountLevel) this.logger.error(`Messente account problem: ${error.text}`);
    const why = error ? ` (${error.reason}, retry: ${error.retryable})` : '';
    this.log.push(`${outcome.ref} ${outcome.result}${why}`);
  }
}

import type { PriceInfo } from './price-info.interface.js';

/**
 * What Messente's status query API knows about one omnimessage: the outcome on each
 * channel it was sent through, in send order.
 */
export interface DeliveryReport {
  /** Id of the omnimessage that was queried. */
  readonly omnimessageId: string;
  /** Recipient phone number (E.164), or null when Messente sent none. */
  readonly to: string | null;
  /** One entry per message (channel) of the omnimessage, in send order. */
  readonly statuses: readonly DeliveryResult[];
}

/**
 * The state of one message of an omnimessage. Any field may be null while Messente is
 * still processing the message.
 */
export interface DeliveryResult {
  /** Messente's id of the message on one channel, or null. */
  readonly messageId: string | null;
  /** The latest status (one of `DlrStatus`, or a status Messente added later), or null. */
  readonly status: string | null;
  /** `sms`, `viber`, `whatsapp`, `rcs`, ... or null. */
  readonly channel: string | null;
  /** Messente's error code (`0` = none), or null. */
  readonly err: number | null;
  /** Human-readable error text, or null. */
  readonly error: string | null;
  /** When Messente saw the status (read as UTC), or null. */
  readonly timestamp: Date | null;
  /** Sender name, or null. */
  readonly sender: string | null;
  /** Price of the message, or null. */
  readonly priceInfo: PriceInfo | null;
}

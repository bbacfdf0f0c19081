import type { DeliveryReport, DeliveryResult } from '../interfaces/delivery-report.interface.js';
import type { DlrPayload } from './dlr-payload.js';
import { deepFreeze } from '../utils/deep-freeze.js';

/**
 * Turns one message of a status-API answer into the callback body Messente would have
 * posted, so that a polled status is recorded and dispatched exactly like a received one.
 * Returns null for a message the API does not know enough about yet.
 */
export function toCallbackPayload(report: DeliveryReport, result: DeliveryResult): DlrPayload | null {
  if (!result.messageId || !result.status) return null;
  const payload: Record<string, unknown> = {
    message_id: result.messageId,
    omnimessage_id: report.omnimessageId,
    status: result.status,
    channel: result.channel,
    to: report.to,
    sender: result.sender,
    err: result.err,
    error: result.error,
    timestamp: result.timestamp?.toISOString() ?? null,
  };
  if (result.priceInfo) {
    payload['price_info'] = {
      part_price: result.priceInfo.partPrice,
      parts_count: result.priceInfo.partsCount,
      total_price: result.priceInfo.totalPrice,
    };
  }
  return deepFreeze(payload);
}

import type { DlrErrorReason } from '../payload/describe-dlr-error.js';

/**
 * What happened to a tracked omnimessage: `pending` until a report settles it; `delivered` when
 * some tracked message reached DELIVRD or SEEN (it stays delivered); `failed` when every tracked
 * message's latest status is final and none delivered; `overdue` when its deadline passed while
 * pending (a later report can still make it delivered or failed).
 */
export type DeliveryOutcomeResult = 'pending' | 'delivered' | 'failed' | 'overdue';

/** Every `DeliveryOutcomeResult`, in the order a send usually goes through them. */
export const DELIVERY_OUTCOME_RESULTS: readonly DeliveryOutcomeResult[] = Object.freeze([
  'pending',
  'overdue',
  'delivered',
  'failed',
]);

/** One tracked message of an outcome (one channel of the fallback), as its reports left it. */
export interface DeliveryOutcomeMessage {
  /** Messente's id of the message on this channel. */
  readonly messageId: string;
  /** The channel (`viber`, `sms`, ...), as the send answer named it. */
  readonly channel: string;
  /** Its latest status, or null when no report arrived yet. */
  readonly status: string | null;
  /** The latest report's `err`, or null. */
  readonly err: number | null;
  /** `describeDlrError(err).reason`, or null. */
  readonly reason: DlrErrorReason | null;
  /** When the latest report was received, or null. */
  readonly at: Date | null;
}

/** One outcome per tracked omnimessage: see `DeliveryStatusService.track()`. */
export interface DeliveryOutcome {
  /** The omnimessage the app sent. */
  readonly omnimessageId: string;
  /** The app's own reference given to `track()`, or null. */
  readonly ref: string | null;
  /** The recipient, or null when neither the send answer nor `track()` named one. */
  readonly to: string | null;
  /** The account it was sent with, or null. */
  readonly account: string | null;
  /** Pending, delivered, failed or overdue. */
  readonly result: DeliveryOutcomeResult;
  /** For `delivered`: the channel that delivered it; else null. */
  readonly deliveredVia: string | null;
  /** When it became delivered or failed, or null. */
  readonly settledAt: Date | null;
  /** When a pending outcome becomes overdue. */
  readonly deadline: Date;
  /** The tracked messages, in fallback order. */
  readonly messages: readonly DeliveryOutcomeMessage[];
}

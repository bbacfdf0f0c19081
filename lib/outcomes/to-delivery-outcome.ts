import type { DeliveryOutcome } from '../interfaces/delivery-outcome.interface.js';
import type { StoredOutcome } from '../interfaces/outcome-store.interface.js';
import { dlrErrorReason } from '../payload/describe-dlr-error.js';

/** What the app sees of a stored outcome: `Date`s for times, and each message's error reason. */
export function toDeliveryOutcome(stored: StoredOutcome): DeliveryOutcome {
  return Object.freeze({
    omnimessageId: stored.omnimessageId,
    ref: stored.ref,
    to: stored.to,
    account: stored.account,
    result: stored.result,
    deliveredVia: stored.deliveredVia,
    settledAt: stored.settledAt === null ? null : new Date(stored.settledAt),
    deadline: new Date(stored.deadline),
    messages: Object.freeze(
      stored.messages.map((message) =>
        Object.freeze({
          messageId: message.messageId,
          channel: message.channel,
          status: message.status,
          err: message.err,
          reason: dlrErrorReason(message.err),
          at: message.at === null ? null : new Date(message.at),
        }),
      ),
    ),
  });
}

import { isFinalStatus } from '../dlr-status.js';
import type { DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';

/** The statuses that mean the person was reached. */
const DELIVERED = new Set(['DELIVRD', 'SEEN']);

/** What `decideOutcome` reads of one tracked message: its channel and latest status. */
export interface OutcomeMessageState {
  readonly channel: string;
  readonly status: string | null;
}

/** A decided outcome: its result, and for `delivered` the channel that delivered. */
export interface OutcomeDecision {
  readonly result: DeliveryOutcomeResult;
  readonly deliveredVia: string | null;
}

/**
 * The outcome of a tracked omnimessage after a report: the one rule every store applies (the
 * Redis script and the PostgreSQL function spell out the same steps). `current` is the result
 * before the report; delivered stays delivered whatever comes later, `overdue` is only left for
 * delivered or failed, and a failed outcome a later DELIVRD or SEEN turns into delivered.
 */
export function decideOutcome(
  current: DeliveryOutcomeResult,
  currentVia: string | null,
  messages: readonly OutcomeMessageState[],
): OutcomeDecision {
  if (current === 'delivered') return { result: current, deliveredVia: currentVia };
  const delivered = messages.find((message) => message.status !== null && DELIVERED.has(message.status));
  if (delivered) return { result: 'delivered', deliveredVia: delivered.channel };
  const allFinal = messages.every((message) => message.status !== null && isFinalStatus(message.status));
  if (allFinal) return { result: 'failed', deliveredVia: null };
  return { result: current === 'overdue' ? 'overdue' : 'pending', deliveredVia: null };
}

/** True when a change from `previous` to `next` is one handlers hear of. */
export function isOutcomeEvent(previous: DeliveryOutcomeResult, next: DeliveryOutcomeResult): boolean {
  return previous !== next && next !== 'pending';
}

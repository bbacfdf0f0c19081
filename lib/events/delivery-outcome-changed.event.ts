import type { DeliveryOutcome, DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';

/**
 * A tracked omnimessage's outcome left `pending` or `overdue` (or a failed one was delivered
 * after all). Handed to `@OnDeliveryOutcome` handlers, once per (omnimessage, result) across
 * the instances sharing a store.
 */
export class DeliveryOutcomeChanged {
  /** The outcome as of this change. */
  readonly outcome: DeliveryOutcome;
  /** The result it had before: `pending`, `overdue` or, rarely, `failed`. */
  readonly previousResult: DeliveryOutcomeResult;

  constructor(outcome: DeliveryOutcome, previousResult: DeliveryOutcomeResult) {
    this.outcome = outcome;
    this.previousResult = previousResult;
    // One handler must not be able to change what the next one sees.
    Object.freeze(this);
  }
}

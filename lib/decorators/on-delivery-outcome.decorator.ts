import { ON_DELIVERY_OUTCOME_METADATA } from '../messente-dlr.constants.js';
import { appendHandlerMetadata } from './append-handler-metadata.js';
import type { DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';

/** What `@OnDeliveryOutcome` accepts: a result, `'*'` for every result, or a list of them. */
export type DeliveryOutcomeSelector =
  | Exclude<DeliveryOutcomeResult, 'pending'>
  | '*'
  | readonly (Exclude<DeliveryOutcomeResult, 'pending'> | '*')[];

/**
 * Marks a method as a handler of outcome changes of tracked omnimessages (see
 * `DeliveryStatusService.track()`). It receives a `DeliveryOutcomeChanged`; an async handler
 * is awaited, a failing one retried alone. Stackable; works on any provider or controller.
 *
 * @example
 * ```ts
 * @OnDeliveryOutcome('failed') onFailed(event: DeliveryOutcomeChanged) {}
 * ```
 */
export function OnDeliveryOutcome(selector: DeliveryOutcomeSelector): MethodDecorator {
  const results: readonly string[] = typeof selector === 'string' ? [selector] : [...selector];
  return appendHandlerMetadata(ON_DELIVERY_OUTCOME_METADATA, results);
}

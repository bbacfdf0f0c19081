import { ON_DLR_STATUS_METADATA } from '../messente-dlr.constants.js';
import { appendHandlerMetadata } from './append-handler-metadata.js';
import type { DlrStatus } from '../dlr-status.js';

/** What `@OnDlrStatus` accepts: a status, `'*'` for every status, or a list of them. */
export type DlrStatusSelector = DlrStatus | '*' | readonly (DlrStatus | '*')[];

/**
 * Marks a method as a handler of delivery-status changes. It receives a
 * `DeliveryStatusChanged`; an async handler is awaited. Stackable; works on any provider or
 * controller. Statuses Messente has not documented reach only `'*'` handlers.
 *
 * @example
 * ```ts
 * @OnDlrStatus('DELIVRD') onDelivered(event: DeliveryStatusChanged) {}
 * @OnDlrStatus(['FAILED', 'UNDELIV']) async onFailed(event: DeliveryStatusChanged) {}
 * ```
 */
export function OnDlrStatus(selector: DlrStatusSelector): MethodDecorator {
  const statuses: readonly string[] = typeof selector === 'string' ? [selector] : [...selector];
  return appendHandlerMetadata(ON_DLR_STATUS_METADATA, statuses);
}

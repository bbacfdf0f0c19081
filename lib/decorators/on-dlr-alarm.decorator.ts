import { ON_DLR_ALARM_METADATA } from '../messente-dlr.constants.js';
import { appendHandlerMetadata } from './append-handler-metadata.js';
import type { DeliveryAlarmKind } from '../interfaces/delivery-alarm.interface.js';

/** What `@OnDlrAlarm` accepts: a kind, `'*'` for every kind, or a list of them. */
export type DeliveryAlarmSelector = DeliveryAlarmKind | '*' | readonly (DeliveryAlarmKind | '*')[];

/**
 * Marks a method as a handler of delivery alarms: it receives a `DeliveryAlarm` each time an
 * alarm of this process is raised or cleared (module option `alarms`). Every kind by default.
 * Called once, never retried: a handler that throws or rejects is logged and the next alarm
 * still reaches it; the webhook never waits for it. Stackable; works on any provider or
 * controller.
 *
 * @example
 * ```ts
 * @OnDlrAlarm() onAlarm(alarm: DeliveryAlarm) {}
 * @OnDlrAlarm('account') async onAccount(alarm: DeliveryAlarm) {}
 * ```
 */
export function OnDlrAlarm(selector: DeliveryAlarmSelector = '*'): MethodDecorator {
  const kinds: readonly string[] = typeof selector === 'string' ? [selector] : [...selector];
  return appendHandlerMetadata(ON_DLR_ALARM_METADATA, kinds);
}

import type { DeliveryAlarm } from '../interfaces/delivery-alarm.interface.js';
import type { DeliveryOutcomeChanged } from '../events/delivery-outcome-changed.event.js';
import type { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';

/** One discovered `@OnDlrStatus` method, bound to its provider instance. */
export interface DlrHandler {
  /** `ClassName.methodName`, for logs. */
  readonly name: string;
  /** The statuses it listens to; `'*'` for all. */
  readonly statuses: ReadonlySet<string>;
  /** Calls the method directly (no guards, interceptors or filters). */
  readonly call: (event: DeliveryStatusChanged) => unknown;
}

/** One discovered `@OnDeliveryOutcome` method, bound to its provider instance. */
export interface OutcomeHandler {
  /** `ClassName.methodName`, for logs. */
  readonly name: string;
  /** The results it listens to; `'*'` for all. */
  readonly results: ReadonlySet<string>;
  /** Calls the method directly (no guards, interceptors or filters). */
  readonly call: (event: DeliveryOutcomeChanged) => unknown;
}

/** One discovered `@OnDlrAlarm` method, bound to its provider instance. */
export interface AlarmHandler {
  /** `ClassName.methodName`, for logs. */
  readonly name: string;
  /** The kinds it listens to; `'*'` for all. */
  readonly kinds: ReadonlySet<string>;
  /** Calls the method directly (no guards, interceptors or filters). */
  readonly call: (alarm: DeliveryAlarm) => unknown;
}

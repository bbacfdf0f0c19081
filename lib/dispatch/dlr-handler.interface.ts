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

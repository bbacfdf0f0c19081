import type { BlockList } from 'node:net';
import type { DlrStore } from './dlr-store.interface.js';
import type { MessenteDlrAccountResolver } from './messente-dlr-account.interface.js';
import type {
  AcknowledgeMode,
  MessenteCredentials,
  OtelMeterProvider,
  OtelTracerProvider,
  ReconcileScheduleOptions,
} from './messente-dlr-options.interface.js';

/** The module's options after validation, with every default filled in. Internal. */
export interface ResolvedDlrOptions {
  readonly path: string;
  /** Null when the IP check is off. */
  readonly allowList: BlockList | null;
  readonly secrets: readonly Buffer[];
  readonly credentials: MessenteCredentials | null;
  /** Null when module option `accounts` is not used. */
  readonly accounts: ResolvedAccounts | null;
  readonly apiUrl: string;
  readonly apiTimeoutMs: number;
  readonly apiRetries: number;
  readonly store: DlrStore;
  readonly acknowledge: AcknowledgeMode;
  readonly handlerAttempts: number;
  readonly handlerRetryDelayMs: number;
  readonly pendingLeaseMs: number;
  readonly pendingSweepIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly cqrs: boolean;
  readonly eventEmitter: boolean;
  readonly reconcile: ReconcileScheduleOptions | null;
  readonly tracking: { readonly overdueAfterMs: number; readonly sweepIntervalMs: number };
  readonly alarms: ResolvedAlarmOptions;
  readonly controllerDecorators: readonly ClassDecorator[];
  readonly telemetry: boolean;
  /** Null: the global provider. */
  readonly meterProvider: OtelMeterProvider | null;
  readonly tracerProvider: OtelTracerProvider | null;
}

/** One account with its secrets ready for HMAC: `signatureSecrets`, then the password if not listed. Internal. */
export interface ResolvedAccount {
  readonly id: string;
  readonly secrets: readonly Buffer[];
  readonly credentials: MessenteCredentials | null;
}

/** Module option `accounts` after validation. Internal. */
export type ResolvedAccounts =
  | { readonly kind: 'list'; readonly list: readonly ResolvedAccount[] }
  | {
      readonly kind: 'resolver';
      readonly resolve: MessenteDlrAccountResolver['resolve'];
      readonly cacheTtlMs: number;
      readonly maxCached: number;
      readonly timeoutMs: number;
    };

/** Module option `alarms` after validation. Internal. */
export interface ResolvedAlarmOptions {
  readonly refusalRatio: number;
  readonly minRequests: number;
  readonly windowMs: number;
  /** Null: the `silence` alarm is off. */
  readonly silentForMs: number | null;
}

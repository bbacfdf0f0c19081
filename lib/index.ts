import 'reflect-metadata';

export { MessenteDlrModule } from './messente-dlr.module.js';
export { MESSENTE_DLR_IPS, DLR_STORE } from './messente-dlr.constants.js';
export {
  DlrStatus,
  KNOWN_STATUSES,
  FINAL_STATUSES,
  FAILURE_STATUSES,
  isFinalStatus,
  isKnownStatus,
} from './dlr-status.js';
export { OnDlrStatus, type DlrStatusSelector } from './decorators/on-dlr-status.decorator.js';
export { DeliveryStatusChanged } from './events/delivery-status-changed.event.js';
export { DeliveryOutcomeChanged } from './events/delivery-outcome-changed.event.js';
export {
  OnDeliveryOutcome,
  type DeliveryOutcomeSelector,
} from './decorators/on-delivery-outcome.decorator.js';
export { OnDlrAlarm, type DeliveryAlarmSelector } from './decorators/on-dlr-alarm.decorator.js';
export type {
  DeliveryAlarm,
  DeliveryAlarmKind,
  DeliveryAlarmState,
  RefusalsAlarmDetail,
  SilenceAlarmDetail,
  AccountAlarmDetail,
} from './interfaces/delivery-alarm.interface.js';
export {
  describeDlrError,
  type DlrErrorDescription,
  type DlrErrorReason,
} from './payload/describe-dlr-error.js';
export type {
  DeliveryOutcome,
  DeliveryOutcomeMessage,
  DeliveryOutcomeResult,
} from './interfaces/delivery-outcome.interface.js';
export type { TrackOptions } from './services/outcome-tracking.service.js';
export { DeliveryStatusEvents } from './events/delivery-status-events.service.js';
export { DlrPendingService } from './dispatch/dlr-pending.service.js';
export {
  DeliveryStatusService,
  type ReconcileResult,
  type StatusQueryOptions,
} from './services/delivery-status.service.js';
export { MessenteApiError } from './errors/messente-api.error.js';
export type { DeliveryReport, DeliveryResult } from './interfaces/delivery-report.interface.js';
export type { DeliveryHistoryEntry } from './interfaces/delivery-history-entry.interface.js';
export { InMemoryDlrStore, type InMemoryDlrStoreOptions } from './stores/in-memory-dlr.store.js';
export { MessenteDlrConfigError } from './errors/messente-dlr-config.error.js';
export type { DlrAnswer } from './services/dlr-intake.service.js';
export type { PriceInfo } from './interfaces/price-info.interface.js';
export {
  DeliveryReportStats,
  type DeliveryReportStatsSnapshot,
  type RecentRefusal,
} from './telemetry/delivery-report-stats.service.js';
export { REFUSAL_REASONS, type RefusalReason } from './interfaces/refusal-reason.js';
export type {
  DlrStore,
  StoredReport,
  RecordOutcome,
  RecordResult,
  PendingKey,
} from './interfaces/dlr-store.interface.js';
export type {
  DlrOutcomeStore,
  StoredOutcome,
  StoredOutcomeMessage,
  TrackInput,
  TrackResult,
  OutcomeChange,
  OutcomeKey,
} from './interfaces/outcome-store.interface.js';
export type {
  DlrDeliveryStatsStore,
  DeliveryTally,
  DeliveryBucketRow,
  DeliveryStats,
  DeliveryGroupStats,
  DeliveryWindow,
} from './interfaces/delivery-stats.interface.js';
// What a custom store's delivery analytics share with the built-in ones (docs/writing-a-store.md).
export { DELIVERY_SECONDS_BOUNDS, deliveryBinOf } from './analytics/delivery-bins.js';
export { deliveryWindowRange, type DeliveryWindowRange } from './analytics/delivery-window.js';
export type {
  MessenteDlrModuleOptions,
  MessenteCredentials,
  AcknowledgeMode,
  ReconcileOptions,
  ReconcileScheduleOptions,
  TrackingOptions,
  AlarmOptions,
  OtelMeterProvider,
  OtelTracerProvider,
} from './interfaces/messente-dlr-options.interface.js';
export type {
  MessenteDlrAccount,
  MessenteDlrAccountResolver,
  MessenteDlrAccountSecrets,
  MessenteDlrAccounts,
} from './interfaces/messente-dlr-account.interface.js';

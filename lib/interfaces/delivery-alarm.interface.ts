import type { DlrErrorReason } from '../payload/describe-dlr-error.js';
import type { RefusalReason } from './refusal-reason.js';

/**
 * What an alarm is about: `refusals` (too many webhook requests refused), `silence` (tracked
 * sends pending and no report accepted for `alarms.silentForMs`) or `account` (a report whose
 * reason is the account's, such as no credit).
 */
export type DeliveryAlarmKind = 'refusals' | 'silence' | 'account';

/** `raised` when the condition starts to hold, `cleared` when it stops: once each per transition. */
export type DeliveryAlarmState = 'raised' | 'cleared';

/** The figures of a `refusals` alarm: the window as the transition was judged. */
export interface RefusalsAlarmDetail {
  /** Requests in the window, accepted and refused. */
  readonly requests: number;
  /** Of which refused. */
  readonly refused: number;
  /** `refused / requests`, 0 when there were none. */
  readonly ratio: number;
  /** The most frequent refusal reason in the window, or null when none was refused. */
  readonly topReason: RefusalReason | null;
  /** The window's length, in ms (`alarms.windowMs`). */
  readonly windowMs: number;
}

/** The figures of a `silence` alarm. */
export interface SilenceAlarmDetail {
  /** The threshold, in ms (`alarms.silentForMs`). */
  readonly silentForMs: number;
  /** When this process last accepted a webhook request, or null when it has not since it started. */
  readonly lastReportAt: Date | null;
}

/** The figures of an `account` alarm: one per account and reason. */
export interface AccountAlarmDetail {
  /** The account the report was verified with (module option `accounts`), or null without accounts. */
  readonly account: string | null;
  /** The report's reason, as `describeDlrError(err).reason`: `account_not_credited`, `sender_not_allowed`. */
  readonly reason: DlrErrorReason;
  /** The report's `err` code. */
  readonly err: number;
  /** The `message_id` of the latest such report. */
  readonly messageId: string;
  /** When the latest such report was received. */
  readonly lastReportAt: Date;
}

/** The fields every alarm has; `detail` depends on `kind`. */
interface DeliveryAlarmOf<K extends DeliveryAlarmKind, D> {
  readonly kind: K;
  readonly state: DeliveryAlarmState;
  /** When this process saw the transition: the alarm has been in `state` since then. */
  readonly since: Date;
  readonly detail: D;
}

/**
 * What `@OnDlrAlarm` handlers receive: one transition of one alarm, judged by this process
 * from what it received. Narrow on `kind` to read `detail`. Frozen.
 */
export type DeliveryAlarm =
  | DeliveryAlarmOf<'refusals', RefusalsAlarmDetail>
  | DeliveryAlarmOf<'silence', SilenceAlarmDetail>
  | DeliveryAlarmOf<'account', AccountAlarmDetail>;

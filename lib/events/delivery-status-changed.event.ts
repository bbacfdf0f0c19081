import { isFinalStatus } from '../dlr-status.js';
import type { PriceInfo } from '../interfaces/price-info.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { parseUtcTimestamp } from '../utils/parse-utc-timestamp.js';
import { deepFreeze } from '../utils/deep-freeze.js';
import { integerOrNull, stringOrNull, toPriceInfo } from '../payload/payload-fields.js';
import { dlrErrorReason, type DlrErrorReason } from '../payload/describe-dlr-error.js';

/**
 * A message's delivery status changed. Handed to `@OnDlrStatus` handlers, emitted on
 * `DeliveryStatusEvents.changes$` and, when enabled, on the CQRS and event-emitter buses.
 */
export class DeliveryStatusChanged {
  /** Messente's id of the message on one channel. */
  readonly messageId: string;
  /** Id grouping the messages of one multi-channel send, or null. */
  readonly omnimessageId: string | null;
  /** The new status (one of `DlrStatus`, or a status Messente added later). */
  readonly status: string;
  /** The status the message had before, or null for its first report. */
  readonly previousStatus: string | null;
  /** `sms`, `viber`, `whatsapp`, `rcs`, ... or null. */
  readonly channel: string | null;
  /** Recipient phone number (E.164), or null. */
  readonly to: string | null;
  /** Sender name, or null. */
  readonly sender: string | null;
  /** Messente's error code (`0` = none), or null. */
  readonly err: number | null;
  /** Human-readable error text, or null. */
  readonly error: string | null;
  /** When Messente saw the change (read as UTC), or null. */
  readonly timestamp: Date | null;
  /** When this app received the report. */
  readonly receivedAt: Date;
  /** Price of the message, or null. */
  readonly priceInfo: PriceInfo | null;
  /**
   * The `ref` given to `DeliveryStatusService.track()` for this message's omnimessage, when it
   * was tracked before the change was recorded; else null.
   */
  readonly ref: string | null;
  /** The account whose secret verified the report (module option `accounts`); null without accounts. */
  readonly account: string | null;
  /** What `err` means: `describeDlrError(err).reason`, or null when it is no error. */
  readonly reason: DlrErrorReason | null;
  /** True when the new status is final. */
  readonly isFinal: boolean;
  /** The payload as received, frozen. */
  readonly raw: Readonly<Record<string, unknown>>;

  constructor(report: StoredReport) {
    const raw = report.raw;
    this.messageId = report.messageId;
    this.omnimessageId = stringOrNull(raw['omnimessage_id']);
    this.status = report.status;
    this.previousStatus = report.previousStatus;
    this.channel = stringOrNull(raw['channel']);
    this.to = stringOrNull(raw['to']);
    this.sender = stringOrNull(raw['sender']);
    this.err = integerOrNull(raw['err']);
    this.reason = dlrErrorReason(this.err);
    this.ref = report.ref ?? null;
    this.account = report.account ?? null;
    this.error = stringOrNull(raw['error']);
    this.timestamp = parseUtcTimestamp(raw['timestamp']);
    this.receivedAt = new Date(report.receivedAt);
    this.priceInfo = toPriceInfo(raw['price_info']);
    this.isFinal = isFinalStatus(this.status);
    this.raw = deepFreeze(raw);
    // One handler must not be able to change what the next one sees.
    Object.freeze(this);
  }
}

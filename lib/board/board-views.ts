import { FAILURE_STATUSES, isFinalStatus } from '../dlr-status.js';
import type { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import type { DeliveryHistoryEntry } from '../interfaces/delivery-history-entry.interface.js';
import type { DeliveryOutcome, DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { stringOrNull } from '../payload/payload-fields.js';
import { maskRecipient } from './mask-recipient.js';

/** How the board colours a status: reached the recipient, did not, or not settled yet. */
export type BoardState = 'delivered' | 'failed' | 'in progress';

/** One change as the live stream sends it (`event: change`). */
export interface BoardChange {
  /** Messente's id of the message on one channel. */
  readonly messageId: string;
  /** Id grouping the messages of one multi-channel send, or null. */
  readonly omnimessageId: string | null;
  /** The new status. */
  readonly status: string;
  /** The status before, or null for the message's first report. */
  readonly previousStatus: string | null;
  /** How the page colours the status. */
  readonly state: BoardState;
  /** `sms`, `viber`, `whatsapp`, ... or null. */
  readonly channel: string | null;
  /** The recipient, masked unless `maskRecipients` is false. */
  readonly to: string | null;
  /** Messente's error code (`0` = none), or null. */
  readonly err: number | null;
  /** Messente's error text, or null. */
  readonly error: string | null;
  /** When Messente saw the change, or null. */
  readonly timestamp: Date | null;
  /** When this app received the report. */
  readonly receivedAt: Date;
  /** The account whose secret verified the report (module option `accounts`); absent without one. */
  readonly account?: string;
}

/** One pending change as `GET {path}/api/pending` lists it. */
export interface BoardPendingChange {
  /** Messente's id of the message on one channel. */
  readonly messageId: string;
  /** Id grouping the messages of one multi-channel send, or null. */
  readonly omnimessageId: string | null;
  /** The status whose handlers have not all succeeded. */
  readonly status: string;
  /** How the page colours the status. */
  readonly state: BoardState;
  /** `sms`, `viber`, `whatsapp`, ... or null. */
  readonly channel: string | null;
  /** The recipient, masked unless `maskRecipients` is false. */
  readonly to: string | null;
  /** When this app received the report. */
  readonly receivedAt: Date;
  /** The account whose secret verified the report (module option `accounts`); absent without one. */
  readonly account?: string;
}

/**
 * One report of a message as the board's history answers carry it: the recorded entry plus
 * its state, so the page colours it without a list of statuses of its own.
 */
export interface BoardHistoryEntry extends Omit<DeliveryHistoryEntry, 'account'> {
  /** How the page colours the report's status. */
  readonly state: BoardState;
  /** The account whose secret verified the report (module option `accounts`); absent without one. */
  readonly account?: string;
}

/** A tracked send as the board shows it: its ref and what happened to it. */
export interface BoardOutcome {
  readonly omnimessageId: string;
  /** The app's own reference, or null. */
  readonly ref: string | null;
  /** `pending`, `delivered`, `failed` or `overdue`. */
  readonly result: DeliveryOutcomeResult;
  /** For `delivered`: the channel that delivered it. */
  readonly deliveredVia: string | null;
  /** The recipient, masked unless `maskRecipients` is false. */
  readonly to: string | null;
  /** When a pending send becomes overdue. */
  readonly deadline: Date;
  /** When it became delivered or failed, or null. */
  readonly settledAt: Date | null;
}

const failures = new Set<string>(FAILURE_STATUSES);

/**
 * The board's one classification of a status: every answer that carries a status carries
 * this next to it, and the page only reads it, so the page and the API cannot disagree.
 */
export function boardState(status: string): BoardState {
  if (failures.has(status)) return 'failed';
  return isFinalStatus(status) ? 'delivered' : 'in progress';
}

/** The state of each of `statuses`, keyed by status (own keys, any string). */
export function boardStates(statuses: Iterable<string>): Record<string, BoardState> {
  return Object.fromEntries([...statuses].map((status) => [status, boardState(status)]));
}

/**
 * `{ account }` when the report has one, else nothing: answers of apps without `accounts` keep
 * their shape.
 */
function accountOf(account: string | null | undefined): { account?: string } {
  return typeof account === 'string' ? { account } : {};
}

/** Shapes the board's data and masks recipients, in one place, so no route can forget to. */
export class BoardViews {
  constructor(private readonly mask: boolean) {}

  /** A recipient as the board shows it. */
  recipient(to: unknown): string | null {
    return this.mask ? maskRecipient(to) : stringOrNull(to);
  }

  /** A tracked send. */
  outcome(outcome: DeliveryOutcome): BoardOutcome {
    return {
      omnimessageId: outcome.omnimessageId,
      ref: outcome.ref,
      result: outcome.result,
      deliveredVia: outcome.deliveredVia,
      to: this.recipient(outcome.to),
      deadline: outcome.deadline,
      settledAt: outcome.settledAt,
    };
  }

  /** A change for the live stream. */
  change(event: DeliveryStatusChanged): BoardChange {
    return {
      messageId: event.messageId,
      omnimessageId: event.omnimessageId,
      status: event.status,
      previousStatus: event.previousStatus,
      state: boardState(event.status),
      channel: event.channel,
      to: this.recipient(event.to),
      err: event.err,
      error: event.error,
      timestamp: event.timestamp,
      receivedAt: event.receivedAt,
      ...accountOf(event.account),
    };
  }

  /** A pending change. */
  pending(report: StoredReport): BoardPendingChange {
    return {
      messageId: report.messageId,
      omnimessageId: stringOrNull(report.raw['omnimessage_id']),
      status: report.status,
      state: boardState(report.status),
      channel: stringOrNull(report.raw['channel']),
      to: this.recipient(report.raw['to']),
      receivedAt: new Date(report.receivedAt),
      ...accountOf(report.account),
    };
  }

  /**
   * A stored report as a history entry (as `DeliveryStatusService.history()` shapes it) with its
   * state and account, its payload's recipient masked.
   */
  historyEntry(entry: DeliveryHistoryEntry): BoardHistoryEntry {
    const raw =
      this.mask && Object.hasOwn(entry.raw, 'to')
        ? { ...entry.raw, to: this.recipient(entry.raw['to']) }
        : entry.raw;
    const { account, ...shown } = entry;
    return { ...shown, raw, state: boardState(entry.status), ...accountOf(account) };
  }
}

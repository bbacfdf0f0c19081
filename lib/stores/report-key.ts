import type { PendingKey, StoredReport } from '../interfaces/dlr-store.interface.js';

/**
 * A report's identity, the `(message_id, status)` pair: where it is read from a callback body,
 * and its one string form. Stores fill `StoredReport.messageId` and `.status` from here, so
 * that nothing else needs to read them out of `raw` again.
 */

/** The `message_id` of a callback body, as text. */
export function messageIdOf(raw: Readonly<Record<string, unknown>>): string {
  return String(raw['message_id']);
}

/** The `status` of a callback body, as text. */
export function statusOf(raw: Readonly<Record<string, unknown>>): string {
  return String(raw['status']);
}

/** What a store keeps of a report, before its identity is read back from `raw`. */
export type UnidentifiedReport = Omit<StoredReport, 'messageId' | 'status'>;

/**
 * The `StoredReport` of what a store read back (a JSON document, a row). Every store builds its
 * reports in this one field order, so that they all share one object shape.
 */
export function identified(report: UnidentifiedReport): StoredReport {
  return {
    messageId: messageIdOf(report.raw),
    status: statusOf(report.raw),
    raw: report.raw,
    receivedAt: report.receivedAt,
    previousStatus: report.previousStatus,
  };
}

// A JSON string needs escapes exactly for these: quote, backslash, C0 controls, and (well-formed
// JSON.stringify) lone surrogates. Paired surrogates are tested too, and left to JSON.stringify.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\uD800-\uDFFF]/;

/**
 * The one string form of a key: `JSON.stringify([messageId, status])`, which any two
 * strings round-trip through (a NUL, a quote or a lone surrogate in either included), and which
 * the Redis store has always written as the member of its pending sets, so that data written
 * before keeps its meaning. Ids rarely need an escape: those are joined without JSON.stringify
 * and the array it would allocate, since intake and the dispatcher encode a key per report.
 */
export function encodeReportKey(messageId: string, status: string): string {
  return NEEDS_ESCAPE.test(messageId) || NEEDS_ESCAPE.test(status)
    ? JSON.stringify([messageId, status])
    : `["${messageId}","${status}"]`;
}

/** The key `encodeReportKey` made `encoded` of. */
export function decodeReportKey(encoded: string): PendingKey {
  const [messageId, status] = JSON.parse(encoded) as [string, string];
  return { messageId, status };
}

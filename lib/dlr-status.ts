/**
 * The eleven delivery statuses Messente documents, as a const object.
 * Use `DlrStatus.DELIVRD` in code and the `DlrStatus` type in signatures.
 */
export const DlrStatus = {
  ACCEPTD: 'ACCEPTD',
  ACK: 'ACK',
  UNKNOWN: 'UNKNOWN',
  DELIVRD: 'DELIVRD',
  UNDELIV: 'UNDELIV',
  FAILED: 'FAILED',
  REJECTD: 'REJECTD',
  EXPIRED: 'EXPIRED',
  NACK: 'NACK',
  DELETED: 'DELETED',
  SEEN: 'SEEN',
} as const;

/** One of Messente's eleven documented statuses. */
export type DlrStatus = (typeof DlrStatus)[keyof typeof DlrStatus];

/** Every documented status, in precedence order. */
export const KNOWN_STATUSES: readonly DlrStatus[] = Object.freeze(Object.values(DlrStatus));

/** Statuses after which Messente sends nothing more for the message (except `SEEN` after `DELIVRD`). */
export const FINAL_STATUSES: readonly DlrStatus[] = Object.freeze([
  'DELIVRD',
  'UNDELIV',
  'FAILED',
  'REJECTD',
  'EXPIRED',
  'NACK',
  'DELETED',
  'SEEN',
]);

/** Final statuses that mean the message did not reach the recipient. */
export const FAILURE_STATUSES: readonly DlrStatus[] = Object.freeze(
  FINAL_STATUSES.filter((status) => status !== 'DELIVRD' && status !== 'SEEN'),
);

const finalSet = new Set<string>(FINAL_STATUSES);
const knownSet = new Set<string>(KNOWN_STATUSES);

/** True when `status` is final: no later status can supersede it except `SEEN`. */
export function isFinalStatus(status: string): boolean {
  return finalSet.has(status);
}

/** True when `status` is one of Messente's eleven documented statuses. */
export function isKnownStatus(status: string): status is DlrStatus {
  return knownSet.has(status);
}

const PRECEDENCE: Readonly<Record<string, number>> = Object.freeze({
  ACCEPTD: 1,
  ACK: 1,
  UNKNOWN: 2,
  DELIVRD: 3,
  UNDELIV: 3,
  FAILED: 3,
  REJECTD: 3,
  EXPIRED: 3,
  NACK: 3,
  DELETED: 3,
  SEEN: 4,
});

/**
 * The precedence of a status in the change semantics (SPEC "Change semantics"):
 * a report whose precedence is lower than the stored one is stale.
 * Statuses Messente has not documented rank with `UNKNOWN`.
 *
 * @internal Stores use it; not exported from the package entry.
 */
export function statusPrecedence(status: string): number {
  return Object.hasOwn(PRECEDENCE, status) ? PRECEDENCE[status]! : 2;
}

/** What an `err` code of a delivery report means: see `describeDlrError()`. */
export interface DlrErrorDescription {
  /** The `err` code as Messente sent it. */
  readonly code: number;
  /** A stable name for the cause, the same string as `reason` on events and outcomes. */
  readonly reason: DlrErrorReason;
  /** True when sending the same message again may succeed (a temporary cause). */
  readonly retryable: boolean;
  /** True when the cause is the account (credit, sender name): every send fails until it is fixed. */
  readonly accountLevel: boolean;
  /** Messente's own words for the code. */
  readonly text: string;
}

/** The stable reasons `describeDlrError()` names; `unknown` for a code Messente has not documented. */
export type DlrErrorReason =
  | 'delivery_failure'
  | 'expired'
  | 'invalid_number'
  | 'account_not_credited'
  | 'invalid_number_format'
  | 'too_many_identical'
  | 'sender_not_allowed'
  | 'operator_blacklisted'
  | 'unroutable'
  | 'temporary_error'
  | 'unknown';

type Row = readonly [DlrErrorReason, retryable: boolean, accountLevel: boolean, text: string];

// Messente documents the codes only as prose (PROTOCOL.md "err codes"); this is that prose as data.
const ERRORS: ReadonlyMap<number, Row> = new Map<number, Row>([
  [1, ['delivery_failure', true, false, 'Delivery failure']],
  [2, ['expired', true, false, 'Sending message expired']],
  [3, ['invalid_number', false, false, 'Invalid number']],
  [4, ['account_not_credited', false, true, 'Error crediting account']],
  [5, ['invalid_number_format', false, false, 'Invalid number format']],
  [6, ['too_many_identical', false, false, 'Too many identical messages']],
  [7, ['sender_not_allowed', false, true, 'Sender name not allowed']],
  [8, ['operator_blacklisted', false, false, 'Operator blacklisted']],
  [9, ['unroutable', false, false, 'Unroutable']],
  [999, ['temporary_error', true, false, 'General temporary error']],
]);

const UNKNOWN: Row = ['unknown', false, false, 'Undocumented error code'];

/**
 * What a report's `err` code means, and whether to retry. Null when there is no error: `null`,
 * `0`, and `10`, which is Messente's code for SEEN, not a failure. A code Messente has not
 * documented is `unknown`, not retryable.
 */
export function describeDlrError(err: number | null | undefined): DlrErrorDescription | null {
  if (err === null || err === undefined || err === 0 || err === 10) return null;
  const [reason, retryable, accountLevel, text] = ERRORS.get(err) ?? UNKNOWN;
  return { code: err, reason, retryable, accountLevel, text };
}

/** The `reason` of an `err` code, or null when it is no error. */
export function dlrErrorReason(err: number | null | undefined): DlrErrorReason | null {
  return describeDlrError(err)?.reason ?? null;
}

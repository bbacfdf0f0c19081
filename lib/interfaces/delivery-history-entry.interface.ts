/** One report recorded for a message, as `DeliveryStatusService.history()` returns it. */
export interface DeliveryHistoryEntry {
  /** The status the report carried. */
  readonly status: string;
  /**
   * `change` when it became the message's latest status; `stale` when it arrived after a
   * status of higher precedence and was kept in history only. Duplicates are not history.
   */
  readonly outcome: 'change' | 'stale';
  /** When this app received the report. */
  readonly receivedAt: Date;
  /** The callback body as received. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** With module option `accounts`: whose secret verified the report; null otherwise. */
  readonly account: string | null;
}

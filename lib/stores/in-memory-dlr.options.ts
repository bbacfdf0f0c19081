/** Options of `InMemoryDlrStore`. */
export interface InMemoryDlrStoreOptions {
  /**
   * Messages kept at most; the least recently reported are evicted first. Default 100 000. The
   * delivery analytics remember as many messages' starts, apart (least recently counted first).
   */
  maxMessages?: number;
  /**
   * Reports kept per message in `history()`, and undocumented statuses remembered per message
   * for deduplication. Default 32. Messente's eleven documented statuses are always
   * remembered, so duplicates of those are always recognised; only a message that collects
   * more than `maxHistory` distinct undocumented statuses forgets the oldest of them, and a
   * report repeating a forgotten one is then decided again as if new (a change when its
   * precedence allows, else stale). The bound keeps a signed sender from growing one message
   * without limit by inventing statuses.
   */
  maxHistory?: number;
  /**
   * Pending changes (handlers not all succeeded) kept at most; past it the oldest is dropped
   * with an error log. Default `maxMessages`. Only a long outage of a handler's downstream
   * reaches it: the bound keeps memory flat even then.
   */
  maxPending?: number;
}

import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { KNOWN_STATUSES, isFinalStatus, statusPrecedence } from '../dlr-status.js';
import type { DlrStore, PendingKey, RecordResult, StoredReport } from '../interfaces/dlr-store.interface.js';
import { type Fileable, OmnimessageIndex } from './omnimessage-index.js';
import { encodeReportKey, messageIdOf, statusOf } from './report-key.js';
import { MAX_PHONE, MAX_RECENT, MAX_SEARCH, boundedLimit, isPrefixQuery } from './store-queries.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { optionValidatorsOf } from '../utils/option-validators.js';

/** Options of `InMemoryDlrStore`. */
export interface InMemoryDlrStoreOptions {
  /** Messages kept at most; the least recently reported are evicted first. Default 100 000. */
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

interface MessageEntry extends Fileable {
  latest: StoredReport | null;
  /**
   * Every report kept, oldest first, once there are two; null while `latest` is the only one,
   * which spares most messages an array.
   */
  history: StoredReport[] | null;
  /** Documented statuses recorded for the message, one bit each (see `KNOWN_BITS`). */
  knownSeen: number;
  /** Undocumented statuses recorded, oldest first, at most `maxHistory`; null until the first. */
  unknownSeen: string[] | null;
}

/** One bit per documented status: deduplicating those costs no allocation and never forgets. */
const KNOWN_BITS: ReadonlyMap<string, number> = new Map(KNOWN_STATUSES.map((status, i) => [status, 1 << i]));

interface PendingEntry {
  readonly report: StoredReport;
  leaseUntil: number;
}

/**
 * The default store: this process's memory, bounded by an LRU of `maxMessages` messages.
 * JavaScript runs each method to completion between awaits, so every decision is atomic.
 * Not shared between processes and lost on restart: use `RedisDlrStore` for that.
 */
export class InMemoryDlrStore implements DlrStore {
  private readonly maxHistory: number;
  private readonly maxPending: number;
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly messages: LRUCache<string, MessageEntry>;
  private readonly omnimessages = new OmnimessageIndex();
  // Pending changes are kept apart from the LRU: evicting a message must not lose a report
  // whose handlers have not run.
  private readonly pending = new Map<string, PendingEntry>();
  // Walks `pending` oldest first across consecutive drops. A fresh iterator would step over every
  // slot deleted since V8 last compacted the map, once per dropped change; this one steps over
  // each slot once. Everything before it was dropped or completed: new changes are appended.
  private pendingCursor: Iterator<[string, PendingEntry]> | null = null;
  // The last MAX_RECENT changes, a ring of two parallel arrays (no object per change): the
  // report, and the message entry it was recorded in. A change is shown only while the store
  // holds that very entry, so that the feed forgets a message with the LRU.
  private readonly recentReports: (StoredReport | null)[] = new Array<null>(MAX_RECENT).fill(null);
  private readonly recentEntries: (MessageEntry | null)[] = new Array<null>(MAX_RECENT).fill(null);
  private recentCount = 0;

  constructor(options: InMemoryDlrStoreOptions = {}) {
    const maxMessages = optionValidatorsOf('InMemoryDlrStore').positiveInteger(
      'maxMessages',
      options.maxMessages ?? 100_000,
    );
    this.maxHistory = options.maxHistory ?? 32;
    this.maxPending = options.maxPending ?? maxMessages;
    this.messages = new LRUCache({
      max: maxMessages,
      dispose: (entry, messageId) => this.omnimessages.unfile(entry, messageId),
    });
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    const messageId = messageIdOf(raw);
    const status = statusOf(raw);
    let entry = this.messages.get(messageId);
    if (!entry) {
      entry = {
        latest: null,
        omnimessageId: null,
        filed: 0,
        history: null,
        knownSeen: 0,
        unknownSeen: null,
      };
      this.messages.set(messageId, entry);
    }
    if (!this.markSeen(entry, status)) {
      return this.redeliveryOrDuplicate(messageId, status, receivedAt, leaseMs);
    }
    const previousStatus = entry.latest ? entry.latest.status : null;
    const report: StoredReport = { messageId, status, raw, receivedAt, previousStatus };
    if (entry.latest !== null) {
      const history = (entry.history ??= [entry.latest]);
      history.push(report);
      if (history.length > this.maxHistory) history.shift();
    }
    if (previousStatus !== null && statusPrecedence(status) < statusPrecedence(previousStatus)) {
      return { outcome: 'stale', report: null };
    }
    entry.latest = report;
    const slot = this.recentCount++ % MAX_RECENT;
    this.recentReports[slot] = report;
    this.recentEntries[slot] = entry;
    this.omnimessages.file(entry, raw['omnimessage_id'], messageId);
    this.pending.set(encodeReportKey(messageId, status), { report, leaseUntil: receivedAt + leaseMs });
    if (this.pending.size > this.maxPending) this.dropOldestPending();
    // Not dropping: let the cursor go, so that it does not hold tables V8 has replaced since.
    else this.pendingCursor = null;
    return { outcome: 'change', report };
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    this.pending.delete(encodeReportKey(key.messageId, key.status));
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    const entry = this.pending.get(encodeReportKey(key.messageId, key.status));
    if (entry) entry.leaseUntil = Date.now();
  }

  /** {@inheritDoc DlrStore.claimPending} */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    const now = Date.now();
    const claimed: StoredReport[] = [];
    // A Map iterates in insertion order, which is the order the changes were accepted.
    for (const entry of this.pending.values()) {
      if (claimed.length >= limit) break;
      if (entry.leaseUntil >= endedBefore) continue;
      entry.leaseUntil = now + leaseMs;
      claimed.push(entry.report);
    }
    return claimed;
  }

  /** {@inheritDoc DlrStore.latest} */
  async latest(messageId: string): Promise<StoredReport | null> {
    return this.messages.peek(messageId)?.latest ?? null;
  }

  /** {@inheritDoc DlrStore.history} */
  async history(messageId: string): Promise<StoredReport[]> {
    const entry = this.messages.peek(messageId);
    if (!entry?.latest) return [];
    return entry.history ? [...entry.history] : [entry.latest];
  }

  /** {@inheritDoc DlrStore.forOmnimessage} */
  async forOmnimessage(omnimessageId: string): Promise<StoredReport[]> {
    const reports: StoredReport[] = [];
    for (const id of this.omnimessages.lookup(omnimessageId, () => this.messages.entries())) {
      const latest = this.messages.peek(id)?.latest;
      if (latest) reports.push(latest);
    }
    return reports;
  }

  /** {@inheritDoc DlrStore.unsettled} */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    const found: StoredReport[] = [];
    for (const entry of this.messages.values()) {
      const latest = entry.latest;
      if (latest && latest.receivedAt < before && !isFinalStatus(latest.status)) {
        found.push(latest);
      }
    }
    return found.sort((a, b) => a.receivedAt - b.receivedAt).slice(0, limit);
  }

  /** {@inheritDoc DlrStore.ping} */
  async ping(): Promise<void> {}

  /** {@inheritDoc DlrStore.countPending} */
  async countPending(): Promise<number> {
    return this.pending.size;
  }

  /** {@inheritDoc DlrStore.listPending} */
  async listPending(limit: number): Promise<StoredReport[]> {
    const listed: StoredReport[] = [];
    for (const entry of this.pending.values()) {
      if (listed.length >= limit) break;
      listed.push(entry.report);
    }
    return listed;
  }

  /** {@inheritDoc DlrStore.recent} */
  async recent(limit: number): Promise<StoredReport[]> {
    const count = boundedLimit(limit, MAX_RECENT);
    const found: StoredReport[] = [];
    // Newest accepted first; the sort below is stable, so equal times keep that order.
    for (let i = 1; i <= Math.min(this.recentCount, MAX_RECENT); i++) {
      const slot = (this.recentCount - i) % MAX_RECENT;
      const report = this.recentReports[slot]!;
      if (this.messages.peek(report.messageId) === this.recentEntries[slot]) {
        found.push(report);
      }
    }
    return found.sort((a, b) => b.receivedAt - a.receivedAt).slice(0, count);
  }

  /**
   * {@inheritDoc DlrStore.search}
   *
   * One pass over the messages held (at most `maxMessages`): a search is a person typing in
   * the board, and an index kept for it would cost every report.
   */
  async search(query: string, limit: number): Promise<string[]> {
    const count = boundedLimit(limit, MAX_SEARCH);
    if (count === 0 || query === '') return [];
    const prefix = isPrefixQuery(query);
    const phone = query.length <= MAX_PHONE;
    const names = (id: string | null): boolean =>
      id !== null && (id === query || (prefix && id.startsWith(query)));
    const found: { id: string; at: number }[] = [];
    for (const [messageId, entry] of this.messages.entries()) {
      const latest = entry.latest;
      if (latest === null) continue;
      const reports = entry.history ?? [latest];
      if (
        names(messageId) ||
        names(entry.omnimessageId) ||
        (phone && reports.some((report) => report.raw['to'] === query))
      ) {
        found.push({ id: messageId, at: latest.receivedAt });
      }
    }
    return found
      .sort((a, b) => b.at - a.at)
      .slice(0, count)
      .map((match) => match.id);
  }

  /** Number of messages held now (for diagnostics and tests). */
  get size(): number {
    return this.messages.size;
  }

  private dropOldestPending(): void {
    // A drop finds maxPending + 1 changes, all after the cursor: it is never at its end.
    const cursor = (this.pendingCursor ??= this.pending.entries());
    const [id, oldest] = cursor.next().value as [string, PendingEntry];
    this.pending.delete(id);
    this.logger.error(
      `InMemoryDlrStore: more than ${this.maxPending} pending changes; dropped the oldest ` +
        `(${oldest.report.messageId} ${oldest.report.status}), whose handlers will not run again`,
    );
  }

  /** Records that the message had `status`; false when it already had. */
  private markSeen(entry: MessageEntry, status: string): boolean {
    const bit = KNOWN_BITS.get(status);
    if (bit !== undefined) {
      if (entry.knownSeen & bit) return false;
      entry.knownSeen |= bit;
      return true;
    }
    const unknown = (entry.unknownSeen ??= []);
    if (unknown.includes(status)) return false;
    unknown.push(status);
    // Bounded like the history: the oldest undocumented status is forgotten (see maxHistory).
    if (unknown.length > this.maxHistory) unknown.shift();
    return true;
  }

  private redeliveryOrDuplicate(
    messageId: string,
    status: string,
    now: number,
    leaseMs: number,
  ): RecordResult {
    const pending = this.pending.get(encodeReportKey(messageId, status));
    if (!pending || pending.leaseUntil > now) return { outcome: 'duplicate', report: null };
    pending.leaseUntil = now + leaseMs;
    return { outcome: 'redelivery', report: pending.report };
  }
}

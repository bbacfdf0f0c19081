import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { KNOWN_STATUSES, isFinalStatus, statusPrecedence } from '../dlr-status.js';
import type { DlrStore, PendingKey, RecordResult, StoredReport } from '../interfaces/dlr-store.interface.js';
import { encodePendingKey } from './pending-key.js';
import { MAX_PHONE, MAX_RECENT, MAX_SEARCH, boundedLimit, isPrefixQuery } from './store-queries.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';

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

interface MessageEntry {
  latest: StoredReport | null;
  /** The omnimessage of the message's first change, which the index files it under. */
  omnimessageId: string | null;
  /** When it got its omnimessage, in filing order: a late-built index keeps that order. */
  filed: number;
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

/** Message ids of one omnimessage: the one id most have, or a Set (O(1) however many). */
type OmnimessageIds = string | Set<string>;

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
  // Built by the first `forOmnimessage()` and kept from then on: an app that never asks
  // spares two lookups in a large map per report. Most omnimessages have one message: it is
  // kept as a plain id, and only a second message turns the entry into a Set.
  private byOmnimessage: Map<string, OmnimessageIds> | null = null;
  private filings = 0;
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
    const maxMessages = options.maxMessages ?? 100_000;
    if (!Number.isInteger(maxMessages) || maxMessages < 1) {
      throw new Error(`InMemoryDlrStore: maxMessages must be a positive integer, got ${maxMessages}`);
    }
    this.maxHistory = options.maxHistory ?? 32;
    this.maxPending = options.maxPending ?? maxMessages;
    this.messages = new LRUCache({
      max: maxMessages,
      dispose: (entry, messageId) => this.unindex(entry, messageId),
    });
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    const messageId = String(raw['message_id']);
    const status = String(raw['status']);
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
    const previousStatus = entry.latest ? String(entry.latest.raw['status']) : null;
    const report: StoredReport = { raw, receivedAt, previousStatus };
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
    this.index(entry, raw['omnimessage_id'], messageId);
    this.pending.set(encodePendingKey(messageId, status), { report, leaseUntil: receivedAt + leaseMs });
    if (this.pending.size > this.maxPending) this.dropOldestPending();
    // Not dropping: let the cursor go, so that it does not hold tables V8 has replaced since.
    else this.pendingCursor = null;
    return { outcome: 'change', report };
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    this.pending.delete(encodePendingKey(key.messageId, key.status));
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    const entry = this.pending.get(encodePendingKey(key.messageId, key.status));
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
    const ids = this.omnimessageIndex().get(omnimessageId) ?? [];
    const reports: StoredReport[] = [];
    for (const id of typeof ids === 'string' ? [ids] : ids) {
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
      if (latest && latest.receivedAt < before && !isFinalStatus(String(latest.raw['status']))) {
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
      if (this.messages.peek(String(report.raw['message_id'])) === this.recentEntries[slot]) {
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
        `(${String(oldest.report.raw['message_id'])} ${String(oldest.report.raw['status'])}), whose handlers will not run again`,
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
    const pending = this.pending.get(encodePendingKey(messageId, status));
    if (!pending || pending.leaseUntil > now) return { outcome: 'duplicate', report: null };
    pending.leaseUntil = now + leaseMs;
    return { outcome: 'redelivery', report: pending.report };
  }

  /** Files a message under the omnimessage of its first change. */
  private index(entry: MessageEntry, omnimessageId: unknown, messageId: string): void {
    if (typeof omnimessageId !== 'string' || entry.omnimessageId !== null) return;
    entry.omnimessageId = omnimessageId;
    entry.filed = ++this.filings;
    if (this.byOmnimessage) addToIndex(this.byOmnimessage, omnimessageId, messageId);
  }

  private unindex(entry: MessageEntry, messageId: string): void {
    const omnimessageId = entry.omnimessageId;
    const index = this.byOmnimessage;
    if (omnimessageId === null || index === null) return;
    const ids = index.get(omnimessageId);
    if (ids === messageId) index.delete(omnimessageId);
    else if (ids instanceof Set && ids.delete(messageId) && ids.size === 0) index.delete(omnimessageId);
  }

  /** The omnimessage index, built from the messages held on first use. */
  private omnimessageIndex(): Map<string, OmnimessageIds> {
    if (this.byOmnimessage) return this.byOmnimessage;
    const filed: [string, MessageEntry][] = [];
    for (const [messageId, entry] of this.messages.entries()) {
      if (entry.omnimessageId !== null) filed.push([messageId, entry]);
    }
    // In filing order, as if the index had been kept all along: `forOmnimessage` lists the
    // messages in the order they first changed.
    filed.sort(([, a], [, b]) => a.filed - b.filed);
    const index = new Map<string, OmnimessageIds>();
    for (const [messageId, entry] of filed) addToIndex(index, entry.omnimessageId!, messageId);
    return (this.byOmnimessage = index);
  }
}

function addToIndex(index: Map<string, OmnimessageIds>, omnimessageId: string, messageId: string): void {
  const ids = index.get(omnimessageId);
  if (ids === undefined) index.set(omnimessageId, messageId);
  else if (typeof ids !== 'string') ids.add(messageId);
  else if (ids !== messageId) index.set(omnimessageId, new Set([ids, messageId]));
}

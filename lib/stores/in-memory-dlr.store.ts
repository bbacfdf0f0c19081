import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { isFinalStatus, statusPrecedence } from '../dlr-status.js';
import type { DlrStore, PendingKey, RecordResult, StoredReport } from '../interfaces/dlr-store.interface.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
  DlrDeliveryStatsStore,
} from '../interfaces/delivery-stats.interface.js';
import type {
  DlrOutcomeStore,
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { integerOrNull } from '../payload/payload-fields.js';
import { InMemoryOutcomes } from './in-memory-outcomes.js';
import { RecentRing } from './recent-ring.js';
import { markSeen, type SeenStatuses } from './seen-statuses.js';
import { type Fileable, OmnimessageIndex } from './omnimessage-index.js';
import { encodeReportKey, messageIdOf, statusOf } from './report-key.js';
import { MAX_PHONE, MAX_RECENT, MAX_SEARCH, boundedLimit, isPrefixQuery } from './store-queries.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { optionValidatorsOf } from '../utils/option-validators.js';
import type { InMemoryDlrStoreOptions } from './in-memory-dlr.options.js';
import { InMemoryDeliveryStats } from './in-memory-delivery-stats.js';

export type { InMemoryDlrStoreOptions } from './in-memory-dlr.options.js';

interface MessageEntry extends Fileable, SeenStatuses {
  latest: StoredReport | null;
  /**
   * Every report kept, oldest first, once there are two; null while `latest` is the only one,
   * which spares most messages an array.
   */
  history: StoredReport[] | null;
}

interface PendingEntry {
  readonly report: StoredReport;
  leaseUntil: number;
}

/**
 * The default store: this process's memory, bounded by an LRU of `maxMessages` messages.
 * JavaScript runs each method to completion between awaits, so every decision is atomic.
 * Not shared between processes and lost on restart: use `RedisDlrStore` for that.
 */
export class InMemoryDlrStore implements DlrStore, DlrOutcomeStore, DlrDeliveryStatsStore {
  private readonly maxHistory: number;
  private readonly maxPending: number;
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly messages: LRUCache<string, MessageEntry>;
  private readonly omnimessages = new OmnimessageIndex();
  private readonly outcomes: InMemoryOutcomes;
  private readonly deliveryStats: InMemoryDeliveryStats;
  // Pending changes are kept apart from the LRU: evicting a message must not lose a report
  // whose handlers have not run.
  private readonly pending = new Map<string, PendingEntry>();
  // Walks `pending` oldest first across consecutive drops. A fresh iterator would step over every
  // slot deleted since V8 last compacted the map, once per dropped change; this one steps over
  // each slot once. Everything before it was dropped or completed: new changes are appended.
  private pendingCursor: Iterator<[string, PendingEntry]> | null = null;
  private readonly recentChanges = new RecentRing<MessageEntry>(MAX_RECENT);

  constructor(options: InMemoryDlrStoreOptions = {}) {
    const maxMessages = optionValidatorsOf('InMemoryDlrStore').positiveInteger(
      'maxMessages',
      options.maxMessages ?? 100_000,
    );
    this.maxHistory = options.maxHistory ?? 32;
    this.maxPending = options.maxPending ?? maxMessages;
    // Tracked omnimessages are bounded like messages: the oldest tracked is forgotten first.
    this.outcomes = new InMemoryOutcomes(maxMessages);
    // The analytics remember as many messages, apart: their bound is the store's own.
    this.deliveryStats = new InMemoryDeliveryStats(maxMessages);
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
    account?: string,
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
    if (!markSeen(entry, status, this.maxHistory)) {
      return this.redeliveryOrDuplicate(messageId, status, receivedAt, leaseMs);
    }
    const previousStatus = entry.latest ? entry.latest.status : null;
    // Untracked messages (most) keep the report's shape without `ref`.
    const ref = this.outcomes.refOf(messageId);
    const report: StoredReport =
      ref === undefined
        ? { messageId, status, raw, receivedAt, previousStatus }
        : { messageId, status, raw, receivedAt, previousStatus, ref };
    // Only a report with an account gets the field: the untracked, account-less path stays as it was.
    if (account !== undefined) (report as { account?: string }).account = account;
    if (entry.latest !== null) {
      const history = (entry.history ??= [entry.latest]);
      history.push(report);
      if (history.length > this.maxHistory) history.shift();
    }
    if (previousStatus !== null && statusPrecedence(status) < statusPrecedence(previousStatus)) {
      return { outcome: 'stale', report: null };
    }
    entry.latest = report;
    this.recentChanges.add(report, entry);
    this.omnimessages.file(entry, raw['omnimessage_id'], messageId);
    this.pending.set(encodeReportKey(messageId, status), { report, leaseUntil: receivedAt + leaseMs });
    if (this.pending.size > this.maxPending) this.dropOldestPending();
    // Not dropping: let the cursor go, so that it does not hold tables V8 has replaced since.
    else this.pendingCursor = null;
    if (ref === undefined) return { outcome: 'change', report };
    const err = integerOrNull(raw['err']);
    const outcomeChange = this.outcomes.reported(messageId, { status, err, at: receivedAt }, leaseMs);
    return { outcome: 'change', report, outcomeChange };
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
    return this.recentChanges.newest(boundedLimit(limit, MAX_RECENT), (id) => this.messages.peek(id));
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

  /** {@inheritDoc DlrOutcomeStore.track} */
  async track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    return this.outcomes.track(input, now, leaseMs, (messageId) => {
      const latest = this.messages.peek(messageId)?.latest;
      return latest
        ? { status: latest.status, err: integerOrNull(latest.raw['err']), at: latest.receivedAt }
        : null;
    });
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  async outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    return this.outcomes.outcome(omnimessageId);
  }

  /** {@inheritDoc DlrOutcomeStore.findByRef} */
  async findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    return this.outcomes.findByRef(ref, limit);
  }

  /** {@inheritDoc DlrOutcomeStore.completeOutcome} */
  async completeOutcome(key: OutcomeKey): Promise<void> {
    this.outcomes.complete(key);
  }

  /** {@inheritDoc DlrOutcomeStore.releaseOutcome} */
  async releaseOutcome(key: OutcomeKey): Promise<void> {
    this.outcomes.release(key, Date.now());
  }

  /** {@inheritDoc DlrOutcomeStore.claimPendingOutcomes} */
  async claimPendingOutcomes(
    limit: number,
    leaseMs: number,
    endedBefore = Date.now() + 1,
  ): Promise<OutcomeChange[]> {
    return this.outcomes.claimPending(limit, leaseMs, Date.now(), endedBefore);
  }

  /** {@inheritDoc DlrOutcomeStore.claimOverdue} */
  async claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]> {
    return this.outcomes.claimOverdue(now, limit, leaseMs);
  }

  /** {@inheritDoc DlrOutcomeStore.markOverdue} */
  async markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null> {
    return this.outcomes.markOverdue(omnimessageId, now, leaseMs);
  }

  /** {@inheritDoc DlrOutcomeStore.countPendingOutcomes} */
  async countPendingOutcomes(): Promise<number> {
    return this.outcomes.countPending();
  }

  /** {@inheritDoc DlrDeliveryStatsStore.tallyDelivery} */
  async tallyDelivery(tallies: readonly DeliveryTally[]): Promise<(number | null)[]> {
    return this.deliveryStats.tally(tallies);
  }

  /** {@inheritDoc DlrDeliveryStatsStore.deliveryBuckets} */
  async deliveryBuckets(window: DeliveryWindow, now: number): Promise<DeliveryBucketRow[]> {
    return this.deliveryStats.buckets(window, now);
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

import type { DeliveryOutcomeResult } from '../interfaces/delivery-outcome.interface.js';
import type {
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  StoredOutcomeMessage,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { decideOutcome, isOutcomeEvent } from '../outcomes/decide-outcome.js';

/** What a tracked message's latest accepted report said, as the in-memory store knows it. */
export interface LatestReportState {
  readonly status: string;
  readonly err: number | null;
  readonly at: number;
}

interface PendingOutcome {
  readonly change: OutcomeChange;
  leaseEnd: number;
}

const MAX_LIST = 500;

/**
 * The tracked outcomes of `InMemoryDlrStore`: what `track()` kept, the message → omnimessage
 * links a report is checked against, and the pending outcome changes with their leases. The
 * store calls `reported()` inside its synchronous `record()` step, so a report and the outcome
 * change it causes are decided together. Bounded: past `maxOutcomes` the oldest tracked
 * omnimessage is forgotten with its links (a pending change of it is kept until handled).
 */
export class InMemoryOutcomes {
  private readonly outcomes = new Map<string, StoredOutcome>();
  private readonly byMessage = new Map<string, string>();
  private readonly pending = new Map<string, PendingOutcome>();
  private readonly overdueLeases = new Map<string, number>();

  constructor(private readonly maxOutcomes: number) {}

  /** Tracks an omnimessage; `latestOf` reads the reports its messages already have. */
  track(
    input: TrackInput,
    now: number,
    leaseMs: number,
    latestOf: (messageId: string) => LatestReportState | null,
  ): TrackResult {
    const existing = this.outcomes.get(input.omnimessageId);
    if (existing) {
      // Tracking again changes nothing; only a ref other than the stored one is refused.
      const conflict = input.ref !== null && input.ref !== existing.ref;
      return { status: conflict ? 'ref_conflict' : 'existing', outcome: existing, change: null };
    }
    const messages = input.messages.map((message): StoredOutcomeMessage => {
      const latest = latestOf(message.messageId);
      return Object.freeze({
        messageId: message.messageId,
        channel: message.channel,
        status: latest?.status ?? null,
        err: latest?.err ?? null,
        at: latest?.at ?? null,
      });
    });
    const decision = decideOutcome('pending', null, messages);
    const outcome: StoredOutcome = Object.freeze({
      omnimessageId: input.omnimessageId,
      ref: input.ref,
      to: input.to,
      account: input.account,
      result: decision.result,
      deliveredVia: decision.deliveredVia,
      settledAt: decision.result === 'pending' ? null : now,
      deadline: input.deadline,
      trackedAt: now,
      messages: Object.freeze(messages),
    });
    this.keep(outcome);
    const change = isOutcomeEvent('pending', outcome.result)
      ? this.pend({ outcome, previousResult: 'pending' }, now + leaseMs)
      : null;
    return { status: 'tracked', outcome, change };
  }

  /**
   * The ref of the omnimessage a message was tracked with (null when tracked without one), or
   * undefined when the message is not tracked: one lookup tells `record()` both.
   */
  refOf(messageId: string): string | null | undefined {
    const omnimessageId = this.byMessage.get(messageId);
    return omnimessageId === undefined ? undefined : (this.outcomes.get(omnimessageId)?.ref ?? null);
  }

  /**
   * A change of a message was accepted: updates its tracked outcome, if any, and answers the
   * outcome change it causes, pending and leased, or null.
   */
  reported(messageId: string, latest: LatestReportState, leaseMs: number): OutcomeChange | null {
    const omnimessageId = this.byMessage.get(messageId);
    const current = omnimessageId === undefined ? undefined : this.outcomes.get(omnimessageId);
    if (!current) return null;
    const messages = current.messages.map((message) =>
      message.messageId === messageId
        ? Object.freeze({ ...message, status: latest.status, err: latest.err, at: latest.at })
        : message,
    );
    const decision = decideOutcome(current.result, current.deliveredVia, messages);
    const settled = decision.result !== current.result && decision.result !== 'pending';
    const outcome: StoredOutcome = Object.freeze({
      ...current,
      result: decision.result,
      deliveredVia: decision.deliveredVia,
      settledAt: settled && decision.result !== 'overdue' ? latest.at : current.settledAt,
      messages: Object.freeze(messages),
    });
    this.outcomes.set(current.omnimessageId, outcome);
    if (!isOutcomeEvent(current.result, outcome.result)) return null;
    return this.pend({ outcome, previousResult: current.result }, latest.at + leaseMs);
  }

  outcome(omnimessageId: string): StoredOutcome | null {
    return this.outcomes.get(omnimessageId) ?? null;
  }

  findByRef(ref: string, limit: number): StoredOutcome[] {
    const found: StoredOutcome[] = [];
    for (const outcome of this.outcomes.values()) if (outcome.ref === ref) found.push(outcome);
    return found.sort((a, b) => b.trackedAt - a.trackedAt).slice(0, Math.min(limit, MAX_LIST));
  }

  complete(key: OutcomeKey): void {
    this.pending.delete(pendingKey(key.omnimessageId, key.result));
  }

  release(key: OutcomeKey, now: number): void {
    const entry = this.pending.get(pendingKey(key.omnimessageId, key.result));
    if (entry) entry.leaseEnd = Math.min(entry.leaseEnd, now);
  }

  claimPending(limit: number, leaseMs: number, now: number, endedBefore: number): OutcomeChange[] {
    const claimed: OutcomeChange[] = [];
    for (const entry of this.pending.values()) {
      if (claimed.length >= limit) break;
      if (entry.leaseEnd >= endedBefore) continue;
      entry.leaseEnd = now + leaseMs;
      claimed.push(entry.change);
    }
    return claimed;
  }

  claimOverdue(now: number, limit: number, leaseMs: number): StoredOutcome[] {
    const claimed: StoredOutcome[] = [];
    for (const outcome of this.outcomes.values()) {
      if (claimed.length >= limit) break;
      if (outcome.result !== 'pending' || outcome.deadline > now) continue;
      if ((this.overdueLeases.get(outcome.omnimessageId) ?? 0) > now) continue;
      this.overdueLeases.set(outcome.omnimessageId, now + leaseMs);
      claimed.push(outcome);
    }
    return claimed;
  }

  markOverdue(omnimessageId: string, now: number, leaseMs: number): OutcomeChange | null {
    this.overdueLeases.delete(omnimessageId);
    const current = this.outcomes.get(omnimessageId);
    if (!current || current.result !== 'pending') return null;
    const outcome: StoredOutcome = Object.freeze({ ...current, result: 'overdue' });
    this.outcomes.set(omnimessageId, outcome);
    return this.pend({ outcome, previousResult: 'pending' }, now + leaseMs);
  }

  countPending(): number {
    return this.pending.size;
  }

  private keep(outcome: StoredOutcome): void {
    this.outcomes.set(outcome.omnimessageId, outcome);
    for (const message of outcome.messages) this.byMessage.set(message.messageId, outcome.omnimessageId);
    if (this.outcomes.size <= this.maxOutcomes) return;
    const [oldestId, oldest] = this.outcomes.entries().next().value as [string, StoredOutcome];
    this.outcomes.delete(oldestId);
    this.overdueLeases.delete(oldestId);
    for (const message of oldest.messages) {
      if (this.byMessage.get(message.messageId) === oldestId) this.byMessage.delete(message.messageId);
    }
  }

  private pend(change: OutcomeChange, leaseEnd: number): OutcomeChange {
    this.pending.set(pendingKey(change.outcome.omnimessageId, change.outcome.result), { change, leaseEnd });
    return change;
  }
}

function pendingKey(omnimessageId: string, result: DeliveryOutcomeResult): string {
  return `${omnimessageId}\0${result}`;
}

import type { DlrOutcomeStore, StoredOutcome } from '../interfaces/outcome-store.interface.js';

/** Sends remembered at most; past it the oldest is forgotten (the newer ones still answer "pending"). */
export const MAX_PENDING_SENDS = 10_000;

/** Store lookups one `oldestPending()` makes at most, so that a check stays short. */
export const MAX_PENDING_LOOKUPS = 20;

/** One send tracked here, as long as it may still be pending. */
interface PendingSend {
  readonly trackedAt: number;
  readonly deadline: number;
}

/**
 * Answers "is any omnimessage this process tracked still pending?", which the store cannot
 * answer in one call (`DlrOutcomeStore` finds outcomes by id and by ref, and claims overdue
 * ones, but does not list pending ones). Candidates are kept in process: every `track()` of
 * this process whose outcome is pending, until this process sees its outcome change, or its
 * deadline passes (it is overdue then, not pending). Since the report that settles a send may
 * reach another instance, a candidate is confirmed with the store's `outcome()` before it
 * counts, and forgotten once the store says it is settled: so the answer is the store's, for
 * the sends this process tracked.
 */
export class PendingSends {
  // Insertion order is tracking order: the first candidate the store confirms is the oldest.
  private readonly sends = new Map<string, PendingSend>();

  /** How many candidates are remembered. */
  get size(): number {
    return this.sends.size;
  }

  /** When the oldest candidate was tracked, or null when there is none (no store lookup). */
  oldestCandidate(now: number): number | null {
    for (const [id, send] of this.sends) {
      if (send.deadline > now) return send.trackedAt;
      this.sends.delete(id);
    }
    return null;
  }

  /** A `track()` of this process answered `outcome`: a candidate while it is pending. */
  tracked(outcome: StoredOutcome, now: number): void {
    if (outcome.result !== 'pending' || outcome.deadline <= now) return;
    if (this.sends.has(outcome.omnimessageId)) return;
    this.sends.set(outcome.omnimessageId, { trackedAt: outcome.trackedAt, deadline: outcome.deadline });
    if (this.sends.size > MAX_PENDING_SENDS) this.sends.delete(this.sends.keys().next().value!);
  }

  /** This process saw the outcome of `omnimessageId` change: it is no longer pending. */
  settled(omnimessageId: string): void {
    this.sends.delete(omnimessageId);
  }

  /**
   * When the oldest candidate the store confirms as pending was tracked; null when none is
   * pending; `unknown` when the store failed or `MAX_PENDING_LOOKUPS` lookups found only
   * settled ones (the next call goes on from there, as those are forgotten).
   */
  async oldestPending(
    store: Pick<DlrOutcomeStore, 'outcome'>,
    now: number,
  ): Promise<number | null | 'unknown'> {
    let lookups = 0;
    // Deleting from a Map while iterating it is safe: entries not yet visited are still visited.
    for (const [id, send] of this.sends) {
      if (send.deadline <= now) {
        this.sends.delete(id);
        continue;
      }
      if (lookups++ === MAX_PENDING_LOOKUPS) return 'unknown';
      let outcome: StoredOutcome | null;
      try {
        outcome = await store.outcome(id);
      } catch {
        return 'unknown';
      }
      if (outcome?.result === 'pending') return outcome.trackedAt;
      this.sends.delete(id);
    }
    return null;
  }
}

import type { RefusalReason } from '../interfaces/refusal-reason.js';

/** Requests and refusals over a span of the window. */
export interface RefusalCounts {
  /** Requests answered, accepted and refused. */
  readonly requests: number;
  /** Of which refused. */
  readonly refused: number;
}

/**
 * Webhook requests of the last `retentionMs`, counted per second in a fixed ring: memory
 * depends on the retention, never on the traffic. It answers two spans: the alarm window
 * (`primarySpanMs`), kept as running totals so that judging it after every request costs the
 * same whatever the window's length, and any other span up to the retention (the health
 * indicator's 5 minutes), summed when asked. A second is in a span of `n` seconds when it is
 * one of the last `n` seconds, the current one included.
 *
 * Time comes from the caller (`now`, ms since the epoch), so that it can be driven in tests.
 * A clock that steps back counts into the latest second seen.
 */
export class RefusalWindow {
  private readonly size: number;
  private readonly primarySeconds: number;
  /** The epoch second each slot counts, or -1. */
  private readonly seconds: Float64Array;
  private readonly accepted: Uint32Array;
  private readonly refused: Uint32Array;
  /** Refusals per reason of each slot, made on its first refusal and reused. */
  private readonly reasons: (Map<RefusalReason, number> | undefined)[];
  /** The latest second counted; the primary totals cover (head - primarySeconds, head]. */
  private head = -Infinity;
  private primaryAccepted = 0;
  private primaryRefused = 0;

  constructor(retentionMs: number, primarySpanMs: number) {
    this.primarySeconds = spanSeconds(primarySpanMs);
    this.size = Math.max(spanSeconds(retentionMs), this.primarySeconds);
    this.seconds = new Float64Array(this.size).fill(-1);
    this.accepted = new Uint32Array(this.size);
    this.refused = new Uint32Array(this.size);
    this.reasons = new Array<Map<RefusalReason, number> | undefined>(this.size);
  }

  /** Counts a request answered 2xx. */
  requestAccepted(now: number): void {
    const slot = this.slotAt(now);
    this.accepted[slot]!++;
    this.primaryAccepted++;
  }

  /** Counts a refused request. */
  requestRefused(reason: RefusalReason, now: number): void {
    const slot = this.slotAt(now);
    this.refused[slot]!++;
    this.primaryRefused++;
    const reasons = (this.reasons[slot] ??= new Map());
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  /** The counts of the alarm window as of `now`. */
  primary(now: number): RefusalCounts {
    this.advance(second(now));
    return { requests: this.primaryAccepted + this.primaryRefused, refused: this.primaryRefused };
  }

  /** The counts of the last `spanMs` (at most the retention) as of `now`. */
  counts(spanMs: number, now: number): RefusalCounts {
    let accepted = 0;
    let refused = 0;
    this.forEachSlot(spanMs, now, (slot) => {
      accepted += this.accepted[slot]!;
      refused += this.refused[slot]!;
    });
    return { requests: accepted + refused, refused };
  }

  /**
   * The most frequent refusal reason of the last `spanMs` as of `now`, or null when none was
   * refused. Ties go to the reason first in alphabetical order, so that the answer is stable.
   */
  topReason(spanMs: number, now: number): RefusalReason | null {
    const totals = new Map<RefusalReason, number>();
    this.forEachSlot(spanMs, now, (slot) => {
      for (const [reason, count] of this.reasons[slot] ?? []) {
        totals.set(reason, (totals.get(reason) ?? 0) + count);
      }
    });
    let top: RefusalReason | null = null;
    let topCount = 0;
    for (const [reason, count] of totals) {
      if (count > topCount || (count === topCount && top !== null && reason < top)) {
        top = reason;
        topCount = count;
      }
    }
    return topCount > 0 ? top : null;
  }

  /** Calls `visit` with each slot counting a second of the span (the current one included). */
  private forEachSlot(spanMs: number, now: number, visit: (slot: number) => void): void {
    const latest = Math.max(second(now), this.head);
    const span = Math.min(spanSeconds(spanMs), this.size);
    for (let at = latest - span + 1; at <= latest; at++) {
      const slot = at % this.size;
      if (this.seconds[slot] === at) visit(slot);
    }
  }

  /** The slot counting `now`'s second, emptied first when it held an older second. */
  private slotAt(now: number): number {
    const at = Math.max(second(now), this.head);
    this.advance(at);
    const slot = at % this.size;
    if (this.seconds[slot] !== at) {
      this.seconds[slot] = at;
      this.accepted[slot] = 0;
      this.refused[slot] = 0;
      this.reasons[slot]?.clear();
    }
    return slot;
  }

  /** Moves the head to `at`, taking the seconds that leave the alarm window out of its totals. */
  private advance(at: number): void {
    if (at <= this.head) return;
    if (at - this.head >= this.primarySeconds) {
      this.primaryAccepted = 0;
      this.primaryRefused = 0;
    } else {
      for (let gone = this.head - this.primarySeconds + 1; gone <= at - this.primarySeconds; gone++) {
        const slot = gone % this.size;
        if (this.seconds[slot] !== gone) continue;
        this.primaryAccepted -= this.accepted[slot]!;
        this.primaryRefused -= this.refused[slot]!;
      }
    }
    this.head = at;
  }
}

function second(now: number): number {
  return Math.floor(now / 1_000);
}

/** Whole seconds a span of `ms` covers: at least one. */
function spanSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1_000));
}

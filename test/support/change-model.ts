import { statusPrecedence } from '../../lib/dlr-status.js';

/** What SPEC's change semantics decide for one report, computed independently of any store. */
export type ModelOutcome = 'change' | 'duplicate' | 'stale';

/**
 * A reference model of SPEC "Change semantics", written from the table rather than from
 * the stores, so that the stores can be checked against it.
 */
export class ChangeModel {
  private readonly seen = new Map<string, Set<string>>();
  private readonly latest = new Map<string, string>();
  /** Every change, in the order the model accepted it, per message. */
  readonly changes = new Map<string, string[]>();

  /** Applies one report, in arrival order. */
  apply(messageId: string, status: string): ModelOutcome {
    const seen = this.seen.get(messageId) ?? new Set<string>();
    this.seen.set(messageId, seen);
    if (seen.has(status)) return 'duplicate';
    seen.add(status);
    const current = this.latest.get(messageId);
    if (current !== undefined && statusPrecedence(status) < statusPrecedence(current)) return 'stale';
    this.latest.set(messageId, status);
    this.changes.set(messageId, [...(this.changes.get(messageId) ?? []), status]);
    return 'change';
  }
}

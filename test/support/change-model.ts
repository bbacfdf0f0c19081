import { statusPrecedence } from '../../lib/dlr-status.js';
import type { StoredReport } from '../../lib/interfaces/dlr-store.interface.js';

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

/**
 * A reference model of what a store answers to `recent()` and `search()` (interface
 * `DlrStore`), written from the interface's words, so that every store can be checked against
 * it. Times must increase from one report to the next.
 */
export class RecordModel {
  private readonly decisions = new ChangeModel();
  private readonly changes: StoredReport[] = [];
  private readonly messages = new Map<string, { omni: string | null; at: number; to: Set<unknown> }>();

  /** Applies one report and returns the store's expected outcome. */
  record(raw: Record<string, unknown>, receivedAt: number): ModelOutcome {
    const id = String(raw['message_id']);
    const previous = this.decisions.changes.get(id)?.at(-1) ?? null;
    const outcome = this.decisions.apply(id, String(raw['status']));
    if (outcome === 'duplicate') return outcome;
    const message = this.messages.get(id) ?? { omni: null, at: receivedAt, to: new Set() };
    this.messages.set(id, message);
    message.to.add(raw['to']);
    if (outcome === 'change') {
      this.changes.push({
        messageId: id,
        status: String(raw['status']),
        raw,
        receivedAt,
        previousStatus: previous,
      });
      message.at = receivedAt;
      if (message.omni === null && typeof raw['omnimessage_id'] === 'string')
        message.omni = raw['omnimessage_id'];
    }
    return outcome;
  }

  /** The newest `limit` changes (at most 500), newest first. */
  recent(limit: number): StoredReport[] {
    return [...this.changes].reverse().slice(0, Math.min(limit, 500));
  }

  /** Ids of the messages `query` names, by their latest change, newest first. */
  search(query: string, limit: number): string[] {
    const prefix = [...query].length >= 8;
    const names = (id: string | null) => id !== null && (id === query || (prefix && id.startsWith(query)));
    return [...this.messages]
      .filter(
        ([id, message]) => names(id) || names(message.omni) || (query.length <= 64 && message.to.has(query)),
      )
      .sort(([, a], [, b]) => b.at - a.at)
      .slice(0, limit)
      .map(([id]) => id);
  }
}

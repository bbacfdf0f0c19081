import type { StoredReport } from '../interfaces/dlr-store.interface.js';

/**
 * The last `size` changes of the in-memory store, for the board's feed: a ring of two parallel
 * arrays (no object per change), the report and the message entry it was recorded in. A change
 * is shown only while the store still holds that very entry, so the feed forgets a message
 * with the store's LRU.
 */
export class RecentRing<Entry extends object> {
  private readonly reports: (StoredReport | null)[];
  private readonly entries: (Entry | null)[];
  private count = 0;

  constructor(private readonly size: number) {
    this.reports = new Array<null>(size).fill(null);
    this.entries = new Array<null>(size).fill(null);
  }

  /** Remembers a change, dropping the oldest past `size`. */
  add(report: StoredReport, entry: Entry): void {
    const slot = this.count++ % this.size;
    this.reports[slot] = report;
    this.entries[slot] = entry;
  }

  /** The newest `limit` changes whose entry `holds` still answers for, newest receipt first. */
  newest(limit: number, holds: (messageId: string) => Entry | undefined): StoredReport[] {
    const found: StoredReport[] = [];
    // Newest accepted first; the sort below is stable, so equal times keep that order.
    for (let i = 1; i <= Math.min(this.count, this.size); i++) {
      const slot = (this.count - i) % this.size;
      const report = this.reports[slot]!;
      if (holds(report.messageId) === this.entries[slot]) found.push(report);
    }
    return found.sort((a, b) => b.receivedAt - a.receivedAt).slice(0, limit);
  }
}

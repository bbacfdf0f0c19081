/// <reference lib="dom" />
import type { BoardPageKit } from './board-page.kit.js';
import type { WireChange, WireRecent } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * The live feed: starts from the store's latest changes (`api/recent`), then grows from the
 * stream. Rows are kept newest first by receipt time and once per change, whichever source
 * brought it. Browser code, inlined by its source text: nothing from outside its body but types.
 */
export function boardPageFeed({ byId, cell, changeRow, getJson }: BoardPageKit) {
  const FEED_LIMIT = 200;
  const feed = byId<HTMLTableSectionElement>('feed');
  const shown = new Map<string, HTMLTableRowElement>();

  function addChange(change: WireChange): void {
    const key = change.messageId + '\u0000' + change.status;
    if (shown.has(key)) return;
    if (shown.size === 0) feed.replaceChildren();
    const row = changeRow('change', change, [
      cell(change.channel || '', 'channel wide'),
      cell(change.previousStatus || '(first report)', 'before wide'),
      cell(change.err ? change.err + ' ' + (change.error || '') : '', 'error'),
    ]);
    row.dataset['status'] = change.status;
    const at = Date.parse(change.receivedAt) || 0;
    row.dataset['at'] = String(at);
    const before = Array.from(feed.rows).find((other) => Number(other.dataset['at']) <= at);
    feed.insertBefore(row, before ?? null);
    shown.set(key, row);
    while (feed.rows.length > FEED_LIMIT) {
      const last = feed.rows[feed.rows.length - 1]!;
      shown.forEach((value, other) => {
        if (value === last) shown.delete(other);
      });
      last.remove();
    }
  }

  async function loadRecent(): Promise<void> {
    try {
      const answer = await getJson<WireRecent>('recent?limit=' + FEED_LIMIT);
      answer.changes.slice().reverse().forEach(addChange);
    } catch {
      // The connection badge already says the board is offline.
    }
  }

  return { addChange, loadRecent };
}

/** What `boardPageFeed` returns. */
export type BoardPageFeed = ReturnType<typeof boardPageFeed>;

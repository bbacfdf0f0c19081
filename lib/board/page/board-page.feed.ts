/// <reference lib="dom" />
import type { BoardPageKit } from './board-page.kit.js';
import type { WireChange, WireRecent } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * The live feed: starts from the store's latest changes (`api/recent`), then grows from the
 * stream. Rows are kept newest first by receipt time and once per change, whichever source
 * brought it. In an app with several accounts, an account column and a filter showing one
 * account's rows (over the rows the page holds). Browser code, inlined by its source text:
 * nothing from outside its body but types.
 */
export function boardPageFeed({ byId, el, cell, changeRow, markAccounts, getJson }: BoardPageKit) {
  const FEED_LIMIT = 200;
  const feed = byId<HTMLTableSectionElement>('feed');
  const shown = new Map<string, HTMLTableRowElement>();
  const filter = byId<HTMLSelectElement>('account-filter');
  const filterNote = byId('account-filter-note');
  const accounts = new Set<string>();

  /** Hides the rows of other accounts than the one chosen (none chosen: every row shows). */
  function applyFilter(): void {
    const chosen = filter.value;
    let hidden = 0;
    for (const row of Array.from(feed.rows)) {
      if (!row.classList.contains('change')) continue;
      row.hidden = chosen !== '' && row.dataset['account'] !== chosen;
      if (row.hidden) hidden++;
    }
    filterNote.textContent = hidden > 0 ? hidden + ' report(s) of other accounts hidden.' : '';
  }

  /** Offers an account in the filter, in alphabetical order, the first time the feed sees it. */
  function offerAccount(account: string): void {
    if (accounts.has(account)) return;
    accounts.add(account);
    const option = el('option', null, [account]);
    option.value = account;
    const after = Array.from(filter.options).find((other) => other.value !== '' && other.value > account);
    filter.insertBefore(option, after ?? null);
    byId('account-filter-label').hidden = false;
  }

  filter.addEventListener('change', applyFilter);

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
    if (change.account) {
      markAccounts(byId<HTMLTableElement>('feed-table'), [change]);
      offerAccount(change.account);
    }
    while (feed.rows.length > FEED_LIMIT) {
      const last = feed.rows[feed.rows.length - 1]!;
      shown.forEach((value, other) => {
        if (value === last) shown.delete(other);
      });
      last.remove();
    }
    applyFilter();
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

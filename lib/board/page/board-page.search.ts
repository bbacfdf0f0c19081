/// <reference lib="dom" />
import type { BoardState } from '../board-views.js';
import type { BoardPageKit } from './board-page.kit.js';
import type { WireHistoryEntry, WireMessage, WireMessages, WireOutcome } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * The search: the query lives in the URL (`#q=...`), so an id link, the back button and a link
 * opened in a new tab all run it. Browser code, inlined by its source text: nothing from
 * outside its body but types.
 */
export function boardPageSearch({ byId, el, term, time, badge, idLink, getJson }: BoardPageKit) {
  const OUTCOMES: Readonly<Record<string, string>> = {
    change: 'new status',
    stale: 'arrived late, older than the status shown',
  };
  const RESULTS: Readonly<Record<string, readonly [text: string, state: BoardState]>> = {
    pending: ['waiting for a report', 'in progress'],
    delivered: ['delivered', 'delivered'],
    failed: ['not delivered on any channel', 'failed'],
    overdue: ['no final report by its deadline', 'failed'],
  };
  const results = byId('results');
  const input = byId<HTMLInputElement>('search-id');

  function historyItem(entry: WireHistoryEntry): HTMLLIElement {
    const raw = entry.raw || {};
    const outcome = Object.hasOwn(OUTCOMES, entry.outcome) ? OUTCOMES[entry.outcome]! : entry.outcome;
    const item = el('li', 'report', [
      el('span', 'time', [time(entry.receivedAt)]),
      ' ',
      badge(entry.status, entry.state),
      ' ',
      term(outcome, entry.outcome, 'outcome'),
    ]);
    item.dataset['outcome'] = entry.outcome;
    item.dataset['status'] = entry.status;
    // The payload is as Messente sent it: shown as text, whatever its types.
    if (raw['channel']) item.append(' · ', el('span', 'channel', ['via ' + String(raw['channel'])]));
    if (raw['to']) item.append(' · ', el('span', 'to', ['to ' + String(raw['to'])]));
    if (raw['err']) {
      const text = 'error ' + String(raw['err']) + ' ' + String(raw['error'] || '');
      item.append(' · ', el('span', 'error', [text]));
    }
    return item;
  }

  function messageBlock(message: WireMessage): HTMLDivElement {
    const last = message.history[message.history.length - 1];
    const heading = el('h3', null, ['Message ', idLink(message.messageId)]);
    const omnimessageId = last?.raw?.['omnimessage_id'];
    if (typeof omnimessageId === 'string' && omnimessageId) {
      heading.append(' · sent together as ', idLink(omnimessageId));
    }
    const block = el('div', 'message', [heading, el('ol', 'history', message.history.map(historyItem))]);
    block.dataset['messageId'] = message.messageId;
    return block;
  }

  /** A tracked send: the app's ref and what happened to it, the code in a tooltip. */
  function outcomeBlock(outcome: WireOutcome): HTMLDivElement {
    const [text, state] = RESULTS[outcome.result] ?? [outcome.result, 'in progress'];
    const heading = el('h3', null, ['Tracked send ', idLink(outcome.ref ?? outcome.omnimessageId)]);
    const line = el('p', null, [badge(text, state)]);
    line.firstElementChild?.setAttribute('title', outcome.result);
    if (outcome.deliveredVia) line.append(' via ' + outcome.deliveredVia);
    if (outcome.to) line.append(' · to ' + outcome.to);
    line.append(' · sent together as ', idLink(outcome.omnimessageId));
    const block = el('div', 'outcome', [heading, line]);
    block.dataset['result'] = outcome.result;
    return block;
  }

  // Only the latest search may fill the results: an earlier, slower answer is dropped.
  let searching = 0;
  async function search(q: string): Promise<void> {
    const ticket = ++searching;
    input.value = q;
    results.replaceChildren(el('p', 'note', ['Searching…']));
    try {
      const answer = await getJson<WireMessages>('search?q=' + encodeURIComponent(q));
      if (ticket !== searching) return;
      const outcomes = (answer.outcomes ?? []).map(outcomeBlock);
      if (answer.messages.length === 0 && outcomes.length === 0) {
        results.replaceChildren(el('p', 'empty', ['Nothing is known about ' + q + '.']));
        return;
      }
      results.replaceChildren(...outcomes, ...answer.messages.map(messageBlock));
    } catch (error) {
      if (ticket === searching) {
        results.replaceChildren(el('p', 'empty', ['Search failed: ' + (error as Error).message]));
      }
    }
  }

  function queryInUrl(): string {
    if (location.hash.indexOf('#q=') !== 0) return '';
    try {
      return decodeURIComponent(location.hash.slice(3));
    } catch {
      return '';
    }
  }

  function open(q: string): void {
    const hash = '#q=' + encodeURIComponent(q);
    // The same hash again fires no hashchange: search directly.
    if (location.hash === hash) void search(q);
    else location.hash = hash;
  }

  window.addEventListener('hashchange', () => {
    const q = queryInUrl();
    if (q) {
      void search(q);
      byId('search-section').scrollIntoView({ block: 'nearest' });
    }
  });
  byId('search').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q) open(q);
  });
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a.search-link') : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    open(link.textContent ?? '');
  });

  /** Runs the search the URL names, if any: a link opened in a new tab or a bookmark. */
  function searchFromUrl(): void {
    const q = queryInUrl();
    if (q) void search(q);
  }

  return { searchFromUrl };
}

/** What `boardPageSearch` returns. */
export type BoardPageSearch = ReturnType<typeof boardPageSearch>;

/// <reference lib="dom" />
import type { BoardState } from '../board-views.js';
import type { WireChange } from './board-page.wire.js';

/** What `el` takes as a child: a node, or a value shown as text (null and undefined as nothing). */
export type BoardPageChild = Node | string | number | null | undefined;

/** What a row of the feed or the pending list shows of a change (both answers carry these). */
export type BoardPageRowChange = Pick<
  WireChange,
  'messageId' | 'status' | 'state' | 'to' | 'receivedAt' | 'account'
>;

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * The board page's shared helpers. Browser code, inlined into the page by its source text
 * (see board-page.script.ts): it must use nothing from outside its own body but types.
 *
 * Every value from the API enters the DOM as text (`append` of strings, attribute values),
 * never as HTML. The API sits at `{page path}/api/`, found from the page's own URL, so the
 * page works under any path and global prefix without being templated.
 */
export function boardPageKit() {
  const api = location.pathname.replace(/\/+$/, '') + '/api/';

  /** An element the page's markup always has (board-page.ts). */
  function byId<T extends HTMLElement = HTMLElement>(id: string): T {
    return document.getElementById(id) as T;
  }

  function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    className?: string | null,
    children: readonly BoardPageChild[] = [],
  ): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
    return node;
  }

  /** A plain-language word with its technical code in the tooltip. */
  function term(text: string, code: string, className?: string): HTMLSpanElement {
    const span = el('span', 'term' + (className ? ' ' + className : ''), [text]);
    span.title = code;
    return span;
  }

  function dateOf(value: string | null | undefined): Date | null {
    const date = value ? new Date(value) : null;
    return date && !isNaN(date.getTime()) ? date : null;
  }

  function time(value: string | null | undefined): string {
    const date = dateOf(value);
    if (!date) return value ? String(value) : '';
    // Today's reports by time alone, so the feed reads at a glance; older ones with their date.
    return date.toDateString() === new Date().toDateString()
      ? date.toLocaleTimeString()
      : date.toLocaleString();
  }

  function timeCell(value: string | null | undefined): HTMLTableCellElement {
    const td = el('td', 'time', [time(value)]);
    const date = dateOf(value);
    if (date) td.title = date.toLocaleString();
    return td;
  }

  /** The CSS class of a state; anything unexpected shows as not settled rather than breaking. */
  function stateClass(state: BoardState): string {
    return state === 'delivered' || state === 'failed' ? state : 'in-progress';
  }

  /** A status with its state as the server classified it: colour and words, not colour alone. */
  function badge(status: string, state: BoardState): HTMLSpanElement {
    const span = el('span', 'badge ' + stateClass(state), [String(status), ' ']);
    span.append(el('span', 'state', ['(' + state + ')']));
    return span;
  }

  /** An id as a link that opens the search for it (also in a new tab: the search is in the URL). */
  function idLink(id: string): HTMLAnchorElement {
    const link = el('a', 'search-link', [id]);
    link.href = '#q=' + encodeURIComponent(String(id));
    return link;
  }

  function cell(content: BoardPageChild, className?: string): HTMLTableCellElement {
    return el('td', className, [content]);
  }

  /**
   * A change's row, `data-message-id` and `data-account` set: received, status, recipient, id
   * and account (the columns the feed and the pending list share), then `more` cells. The
   * account column shows only in a table marked `with-accounts` (see `markAccounts`).
   */
  function changeRow(
    className: string,
    change: BoardPageRowChange,
    more: readonly HTMLTableCellElement[] = [],
  ): HTMLTableRowElement {
    const row = el('tr', className, [
      timeCell(change.receivedAt),
      el('td', 'status', [badge(change.status, change.state)]),
      cell(change.to || '', 'to'),
      el('td', 'id', [idLink(change.messageId)]),
      cell(change.account || '', 'account'),
      ...more,
    ]);
    row.dataset['messageId'] = change.messageId;
    row.dataset['account'] = change.account || '';
    return row;
  }

  /** Shows a table's account column once some change in it has an account (an app with `accounts`). */
  function markAccounts(table: HTMLTableElement, changes: readonly BoardPageRowChange[]): void {
    if (changes.some((change) => change.account)) table.classList.add('with-accounts');
  }

  /** Replaces a table body's rows, or shows one full-width row saying there are none. */
  function replaceRows(
    body: HTMLTableSectionElement,
    rows: readonly HTMLTableRowElement[],
    columns: number,
    emptyText: string,
  ): void {
    body.replaceChildren();
    if (rows.length === 0) {
      const empty = el('td', 'empty', [emptyText]);
      empty.colSpan = columns;
      body.append(el('tr', null, [empty]));
      return;
    }
    body.append(...rows);
  }

  async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = { accept: 'application/json', ...(init.headers as Record<string, string>) };
    const response = await fetch(api + path, { cache: 'no-store', ...init, headers });
    if (!response.ok) throw new Error('HTTP ' + response.status + ' from ' + path.split('?')[0]);
    return (await response.json()) as T;
  }

  return {
    api,
    byId,
    el,
    term,
    time,
    timeCell,
    badge,
    idLink,
    cell,
    changeRow,
    markAccounts,
    replaceRows,
    getJson,
  };
}

/** The helpers `boardPageKit` returns, which the other parts of the page take. */
export type BoardPageKit = ReturnType<typeof boardPageKit>;

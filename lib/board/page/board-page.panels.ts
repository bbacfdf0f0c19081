/// <reference lib="dom" />
import type { BoardPageDelivery } from './board-page.delivery.js';
import type { BoardPageKit } from './board-page.kit.js';
import type { WirePending, WireStats } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * Counts, refusals and the pending list with its redispatch button, and the Delivery panel's
 * refresh. They have no stream of their own: they are polled while the page is seen, and after
 * each change. Browser code,
 * inlined by its source text: nothing from outside its body but types.
 */
export function boardPagePanels(
  {
    byId,
    el,
    term,
    time,
    timeCell,
    badge,
    cell,
    changeRow,
    markAccounts,
    replaceRows,
    getJson,
  }: BoardPageKit,
  delivery: BoardPageDelivery,
) {
  // Words for support staff; the code each stands for stays in its tooltip.
  const REASONS: Readonly<Record<string, string>> = {
    ip_not_allowed: 'Sender address not allowed',
    signature_missing: 'Not signed',
    signature_invalid: 'Wrong signature (check the API password)',
    raw_body_missing: 'Signature cannot be checked (raw body is off)',
    unsupported_media_type: 'Not sent as JSON',
    payload_too_large: 'Report too large',
    invalid_body: 'Malformed report',
    store_unavailable: 'Storage was unavailable',
    shutting_down: 'The app was shutting down',
    handler_failed: 'A handler of the app failed',
    unknown_account: 'Unknown account',
    account_lookup_failed: 'Account lookup failed',
  };
  const reasonText = (code: string) => (Object.hasOwn(REASONS, code) ? REASONS[code]! : code);

  function countItem(label: string, code: string, value: number, id: string): HTMLDivElement {
    const dd = el('dd', null, [value]);
    dd.id = id;
    const dt = el('dt', null, [label]);
    dt.title = code;
    return el('div', null, [dt, dd]);
  }

  function renderStats(stats: WireStats): void {
    const refused = Object.values(stats.requests.refused).reduce<number>((sum, n) => sum + (n ?? 0), 0);
    byId('counts-outcome').replaceChildren(
      countItem('Status changes', 'change', stats.reports.change, 'count-change'),
      countItem('Repeated reports (ignored)', 'duplicate', stats.reports.duplicate, 'count-duplicate'),
      countItem('Arrived late (kept in history)', 'stale', stats.reports.stale, 'count-stale'),
      countItem('Sent again, handlers re-run', 'redelivery', stats.reports.redelivery, 'count-redelivery'),
      countItem('Accepted requests', 'accepted', stats.requests.accepted, 'count-accepted'),
      countItem('Refused requests', 'refused', refused, 'count-refused'),
      countItem('Handler errors', 'handlerFailures', stats.handlerFailures, 'count-handler-failures'),
      countItem('Waiting for handlers', 'pending', stats.pending, 'count-pending'),
    );
    const statuses = Object.keys(stats.changesByStatus).sort();
    replaceRows(
      byId<HTMLTableSectionElement>('counts-status'),
      statuses.map((status) =>
        el('tr', null, [
          el('td', null, [badge(status, stats.stateByStatus[status]!)]),
          cell(stats.changesByStatus[status]),
        ]),
      ),
      2,
      'No changes yet',
    );
    replaceRows(
      byId<HTMLTableSectionElement>('refusals'),
      stats.recentRefusals.map((refusal) => {
        const reason = el('td', 'reason', [term(reasonText(refusal.reason), refusal.reason)]);
        reason.dataset['reason'] = refusal.reason;
        return el('tr', 'refusal', [
          timeCell(refusal.at),
          reason,
          cell(refusal.ip, 'id ip'),
          cell(refusal.httpStatus, 'http'),
        ]);
      }),
      4,
      'No refused requests',
    );
    byId('since').textContent = 'since ' + time(stats.since);
  }

  function renderPending(pending: WirePending): void {
    byId('pending-count').textContent = String(pending.count);
    replaceRows(
      byId<HTMLTableSectionElement>('pending'),
      pending.changes.map((change) => changeRow('pending', change)),
      5,
      'Nothing is waiting',
    );
    markAccounts(byId<HTMLTableElement>('pending-table'), pending.changes);
  }

  // One refresh at a time; a request for another while one runs makes one more run after it.
  let refreshing: Promise<void> | null = null;
  let again = false;
  function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        // The Delivery panel handles its own errors: a store without analytics must not stop these.
        const [stats, pending] = await Promise.all([
          getJson<WireStats>('stats'),
          getJson<WirePending>('pending'),
          delivery.refresh(),
        ]);
        renderStats(stats);
        renderPending(pending);
      } catch {
        // The connection badge already says the board is offline.
      }
      refreshing = null;
      if (again) {
        again = false;
        void refresh();
      }
    })();
    return refreshing;
  }

  setInterval(() => {
    if (!document.hidden) void refresh();
  }, 2000);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });

  const button = byId<HTMLButtonElement>('redispatch');
  const note = byId('redispatch-note');
  button.addEventListener('click', async () => {
    button.disabled = true;
    note.textContent = 'Running the handlers again…';
    try {
      // The header tells the board the request comes from this page, not from another site.
      const answer = await getJson<{ dispatched: number }>('pending/redispatch', {
        method: 'POST',
        headers: { 'x-messente-board': '1' },
      });
      note.textContent = 'Dispatched ' + answer.dispatched + ' waiting change(s) again.';
    } catch (error) {
      note.textContent = 'Running the handlers again failed: ' + (error as Error).message;
    }
    button.disabled = false;
    await refresh();
  });

  return { refresh };
}

/** What `boardPagePanels` returns. */
export type BoardPagePanels = ReturnType<typeof boardPagePanels>;

/// <reference lib="dom" />
import type { BoardPageChart } from './board-page.chart.js';
import type { BoardPageKit } from './board-page.kit.js';
import type { WireDelivery, WireDeliveryGroup } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * The Delivery panel: delivery rate, failures by reason and time to deliver, in all, by
 * channel and by country, over the last hour or the last 24 hours (`GET api/delivery`). It
 * has no stream of its own: the counts panel's refresh cycle calls `refresh`. A store without
 * delivery analytics answers 501 once; the panel then says so and asks no more. Browser code,
 * inlined by its source text: nothing from outside its body but types.
 */
export function boardPageDelivery(
  { api, byId, el, term, time, replaceRows }: BoardPageKit,
  chart: BoardPageChart,
) {
  // Words for support staff; the code each stands for stays in its tooltip. A reason is the
  // `err` reason of the report, or its status in lower case when it had no `err`.
  const REASONS: Readonly<Record<string, string>> = {
    delivery_failure: 'Delivery failure',
    expired: 'Expired before delivery',
    invalid_number: 'Invalid number',
    account_not_credited: 'Account out of credit',
    invalid_number_format: 'Invalid number format',
    too_many_identical: 'Too many identical messages',
    sender_not_allowed: 'Sender name not allowed',
    operator_blacklisted: 'Operator blacklisted',
    unroutable: 'Unroutable',
    temporary_error: 'Temporary error',
    unknown: 'Undocumented error code',
    undeliv: 'Undeliverable',
    failed: 'Failed',
    rejectd: 'Rejected',
    nack: 'Refused by the channel',
    deleted: 'Deleted',
  };
  const CHANNELS: Readonly<Record<string, string>> = {
    sms: 'SMS',
    viber: 'Viber',
    whatsapp: 'WhatsApp',
    telegram: 'Telegram',
    rcs: 'RCS',
    _OTHER: 'Other',
  };
  const known = (words: Readonly<Record<string, string>>, code: string) =>
    Object.hasOwn(words, code) ? words[code]! : code;
  const regions =
    typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;

  function countryName(code: string): string {
    if (code === '_OTHER') return 'Other or unknown';
    try {
      return regions?.of(code) ?? code;
    } catch {
      return code;
    }
  }

  function percent(rate: number | null): string {
    return rate === null ? '—' : Math.round(rate * 1000) / 10 + '%';
  }

  /** A percentile: the upper bound of its histogram bin, so "at most" this long. */
  function seconds(value: number | null): string {
    if (value === null) return '—';
    if (value < 60) return '≤ ' + value + ' s';
    if (value < 3_600) return '≤ ' + value / 60 + ' min';
    return '≤ ' + value / 3_600 + ' h';
  }

  let current: '1h' | '24h' = '1h';
  let unsupported = false;
  /** Each request's number: an answer that a later request overtook is not shown. */
  let asked = 0;
  const note = byId('delivery-note');
  const toggles = [byId<HTMLButtonElement>('delivery-1h'), byId<HTMLButtonElement>('delivery-24h')];

  function tile(label: string, code: string, value: string, id: string): HTMLDivElement {
    const dd = el('dd', null, [value]);
    dd.id = id;
    const dt = el('dt', null, [label]);
    dt.title = code;
    return el('div', null, [dt, dd]);
  }

  function groupRow(group: WireDeliveryGroup, label: Node | string): HTMLTableRowElement {
    const cell = (className: string, content: Node | string | number) => el('td', className, [content]);
    const rate = cell('n-rate', el('span', 'pct', [percent(group.rate)]));
    rate.append(
      ' ',
      chart.stacked([
        { value: group.delivered, words: 'delivered', className: 'seg-delivered' },
        { value: group.failed, words: 'failed', className: 'seg-failed' },
        { value: group.pending, words: 'pending', className: 'seg-pending' },
      ]),
    );
    const row = el('tr', 'delivery-row', [
      el('th', 'key', [label]),
      rate,
      cell('n-delivered', group.delivered),
      cell('n-failed', group.failed),
      cell('n-pending', group.pending),
      cell('n-p50', seconds(group.p50Seconds)),
      cell('n-p90', seconds(group.p90Seconds)),
      cell(
        'n-time wide',
        chart.timeRange(
          group.p50Seconds,
          group.p90Seconds,
          group.p50Seconds === null
            ? 'no deliveries timed'
            : 'median ' + seconds(group.p50Seconds) + ', 90th percentile ' + seconds(group.p90Seconds),
        ),
      ),
    ]);
    row.querySelector('th')!.scope = 'row';
    row.dataset['key'] = group.key;
    return row;
  }

  function render(stats: WireDelivery): void {
    const { total } = stats;
    byId('delivery-total').replaceChildren(
      tile('Delivery rate', 'delivered / (delivered + failed)', percent(total.rate), 'delivery-rate'),
      tile('Delivered', 'delivered or seen', String(total.delivered), 'delivery-delivered'),
      tile('Failed', 'final failure', String(total.failed), 'delivery-failed'),
      tile('Pending', 'started in the window, not final yet', String(total.pending), 'delivery-pending'),
      tile('Median time to deliver', 'p50, bin upper bound', seconds(total.p50Seconds), 'delivery-p50'),
      tile('90% delivered within', 'p90, bin upper bound', seconds(total.p90Seconds), 'delivery-p90'),
    );
    const reasons = byId('delivery-reasons');
    if (stats.failuresByReason.length === 0) {
      reasons.replaceChildren(el('p', 'empty', ['No failures in this window']));
    } else {
      reasons.replaceChildren(
        chart.bars(
          'Failures by reason',
          stats.failuresByReason.map(({ reason, count }) => ({
            label: known(REASONS, reason),
            code: reason,
            value: count,
          })),
        ),
      );
    }
    replaceRows(
      byId<HTMLTableSectionElement>('delivery-by-channel'),
      stats.byChannel.map((group) => groupRow(group, term(known(CHANNELS, group.key), group.key))),
      8,
      'No messages in this window',
    );
    replaceRows(
      byId<HTMLTableSectionElement>('delivery-by-country'),
      stats.byCountry.map((group) => groupRow(group, term(countryName(group.key), group.key))),
      8,
      'No messages in this window',
    );
    byId('delivery-range').textContent =
      '(' + time(new Date(stats.from).toISOString()) + ' – ' + time(new Date(stats.to).toISOString()) + ')';
    byId('delivery-section').dataset['window'] = stats.window;
  }

  /** The error an answer carries (Nest's `message`), else its status. */
  async function reasonOf(response: Response): Promise<string> {
    try {
      const body = (await response.json()) as { message?: unknown };
      if (typeof body.message === 'string') return body.message;
    } catch {
      // Not JSON: the status says enough.
    }
    return 'HTTP ' + response.status;
  }

  async function refresh(): Promise<void> {
    if (unsupported) return;
    const window = current;
    const mine = ++asked;
    try {
      const response = await fetch(api + 'delivery?window=' + window, {
        cache: 'no-store',
        headers: { accept: 'application/json' },
      });
      if (mine !== asked) return;
      if (response.status === 501) {
        unsupported = true;
        byId('delivery-body').hidden = true;
        byId('delivery-windows').hidden = true;
        note.textContent = 'This store keeps no delivery analytics. ' + (await reasonOf(response));
        return;
      }
      if (!response.ok) {
        note.textContent = 'Delivery analytics unavailable: ' + (await reasonOf(response));
        return;
      }
      const stats = (await response.json()) as WireDelivery;
      if (mine !== asked) return;
      note.textContent = '';
      render(stats);
    } catch {
      // The connection badge already says the board is offline.
    }
  }

  document.querySelectorAll('#delivery-section .axis').forEach((axis) => axis.append(chart.timeAxis()));
  for (const button of toggles) {
    button.addEventListener('click', () => {
      current = button.dataset['window'] === '24h' ? '24h' : '1h';
      for (const other of toggles) other.setAttribute('aria-pressed', String(other === button));
      void refresh();
    });
  }

  return { refresh };
}

/** What `boardPageDelivery` returns. */
export type BoardPageDelivery = ReturnType<typeof boardPageDelivery>;

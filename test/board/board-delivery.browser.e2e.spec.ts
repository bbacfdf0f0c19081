/// <reference lib="dom" />
// Callbacks passed to page.$eval, page.$$eval and page.waitForFunction run in the browser.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { InMemoryDlrStore } from '../../lib/index.js';
import type { DeliveryTally } from '../../lib/interfaces/delivery-stats.interface.js';
import type { AdapterName } from '../support/app.js';
import { describeInChromium, useBoardInChromium } from '../support/board-browser.js';
import { texts } from '../support/chromium.js';
import { binQuantile, expectedDelivery, streamBodies, type ExpectedGroup } from './board-delivery.stream.js';

const SECRET = 'board-delivery-browser-secret';
const HOUR = 3_600_000;
/** `UPDATE_SCREENSHOTS=1` rewrites the panel's picture in the docs; otherwise it is left alone. */
const SCREENSHOT = process.env['UPDATE_SCREENSHOTS'] === '1' ? resolve(process.cwd(), 'docs/images') : null;

/** A row of the panel's table as the page shows it. */
interface ShownRow {
  readonly key: string;
  readonly rate: string;
  readonly delivered: string;
  readonly failed: string;
  readonly pending: string;
  readonly p50: string;
  readonly p90: string;
  readonly bar: string;
}

/** What the page must show for a group: the numbers, the rate in %, percentiles as "≤ bound". */
function shown(group: ExpectedGroup): ShownRow {
  const seconds = (value: number | null) =>
    value === null
      ? '—'
      : value < 60
        ? `≤ ${value} s`
        : value < 3_600
          ? `≤ ${value / 60} min`
          : `≤ ${value / 3_600} h`;
  return {
    key: group.key,
    rate: group.rate === null ? '—' : `${Math.round(group.rate * 1000) / 10}%`,
    delivered: String(group.delivered),
    failed: String(group.failed),
    pending: String(group.pending),
    p50: seconds(group.p50Seconds),
    p90: seconds(group.p90Seconds),
    bar: `${group.delivered} delivered, ${group.failed} failed, ${group.pending} pending`,
  };
}

/** The rows of one of the panel's tables, sorted by key as `expectedDelivery` sorts its groups. */
async function rowsOf(page: Page, body: 'delivery-by-channel' | 'delivery-by-country'): Promise<ShownRow[]> {
  const rows = await page.$$eval(`#${body} tr.delivery-row`, (nodes) =>
    nodes.map((row) => {
      const text = (selector: string) => row.querySelector(selector)?.textContent?.trim() ?? '';
      return {
        key: row.getAttribute('data-key') ?? '',
        // The rate cell holds the rate, then its bar.
        rate: text('td.n-rate').split(' ')[0]!,
        delivered: text('td.n-delivered'),
        failed: text('td.n-failed'),
        pending: text('td.n-pending'),
        p50: text('td.n-p50'),
        p90: text('td.n-p90'),
        bar: row.querySelector('td.n-rate svg')?.getAttribute('aria-label') ?? '',
      };
    }),
  );
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Waits until the panel shows `window` with `delivered` deliveries in all. */
async function panelShows(page: Page, window: string, delivered: number): Promise<void> {
  await page.waitForFunction(
    (w, d) =>
      document.getElementById('delivery-section')?.dataset['window'] === w &&
      document.getElementById('delivery-delivered')?.textContent === String(d),
    { timeout: 8_000 },
    window,
    delivered,
  );
}

describeInChromium('the board in Chromium: the Delivery panel', () => {
  const board = useBoardInChromium(SECRET);

  beforeAll(() => {
    if (SCREENSHOT) mkdirSync(SCREENSHOT, { recursive: true });
  });

  /** Steps counted three hours ago, straight into the store: in the 24h window, not in 1h. */
  function earlier(store: InMemoryDlrStore, now: number) {
    const receivedAt = now - 3 * HOUR;
    const step = (
      messageId: string,
      step: DeliveryTally['step'],
      at: number,
      reason: string | null = null,
    ) => ({
      messageId,
      channel: 'rcs',
      country: 'FI',
      step,
      reason,
      at,
      receivedAt,
    });
    const start = receivedAt - 600_000;
    return store.tallyDelivery([
      step('old-1', 'started', start),
      step('old-1', 'delivered', start + 30_000),
      step('old-2', 'started', start),
      step('old-2', 'delivered', start + 100_000),
      step('old-3', 'started', start),
      step('old-3', 'failed', start + 5_000, 'unroutable'),
    ]);
  }

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s shows the delivery rate, failures by reason and time to deliver by channel and country, for the last hour and 24 hours',
    async (adapter) => {
      const store = new InMemoryDlrStore();
      await board.start(adapter, { dlr: { store } });
      const now = Date.now();
      await earlier(store, now);
      for (const body of streamBodies(now - 40 * 60_000)) expect((await board.post(body)).status).toBe(200);
      const expected = expectedDelivery();

      const opened = await board.newPage({ width: 1280, height: 900 });
      // Chromium reports what the page's Content-Security-Policy blocked on the console.
      const logged: string[] = [];
      opened.on('console', (message) => logged.push(`${message.type()}: ${message.text()}`));
      const page = await board.open();
      await panelShows(page, '1h', expected.total.delivered);
      expect(await page.$eval('#delivery-1h', (node) => node.getAttribute('aria-pressed'))).toBe('true');
      const total = shown(expected.total);
      expect({
        rate: await page.$eval('#delivery-rate', (node) => node.textContent),
        delivered: await page.$eval('#delivery-delivered', (node) => node.textContent),
        failed: await page.$eval('#delivery-failed', (node) => node.textContent),
        pending: await page.$eval('#delivery-pending', (node) => node.textContent),
        p50: await page.$eval('#delivery-p50', (node) => node.textContent),
        p90: await page.$eval('#delivery-p90', (node) => node.textContent),
      }).toEqual({
        rate: total.rate,
        delivered: total.delivered,
        failed: total.failed,
        pending: total.pending,
        p50: total.p50,
        p90: total.p90,
      });
      expect(await rowsOf(page, 'delivery-by-channel')).toEqual(expected.byChannel.map(shown));
      expect(await rowsOf(page, 'delivery-by-country')).toEqual(expected.byCountry.map(shown));
      // Names for people, codes in the tooltip.
      expect(await texts(page, '#delivery-by-country tr[data-key="EE"] th')).toEqual(['Estonia']);
      expect(await texts(page, '#delivery-by-country tr[data-key="_OTHER"] th')).toEqual([
        'Other or unknown',
      ]);
      expect(await texts(page, '#delivery-by-channel tr[data-key="sms"] th')).toEqual(['SMS']);
      // Failures by reason: a bar each, its count readable, most first.
      const bars = await page.$$eval('#delivery-reasons g.bar', (nodes) =>
        nodes.map((node) => ({
          reason: node.getAttribute('data-code'),
          count: Number(node.getAttribute('data-value')),
        })),
      );
      expect(bars).toEqual(expected.failuresByReason);
      expect(await page.$eval('#delivery-reasons svg', (node) => node.getAttribute('aria-label'))).toMatch(
        /^Failures by reason: Delivery failure 2, /,
      );
      if (SCREENSHOT && adapter === 'fastify') {
        const section = await page.$('#delivery-section');
        await section!.screenshot({ path: resolve(SCREENSHOT, 'board-delivery.png') });
        // The whole page too, to look at (gitignored).
        mkdirSync(resolve(process.cwd(), '.tmp'), { recursive: true });
        await page.screenshot({
          path: resolve(process.cwd(), '.tmp/board-delivery-page.png'),
          fullPage: true,
        });
        await page.setViewport({ width: 390, height: 844 });
        await section!.screenshot({ path: resolve(process.cwd(), '.tmp/board-delivery-phone.png') });
        await page.setViewport({ width: 1280, height: 900 });
      }

      // The last 24 hours add what was counted three hours ago.
      await page.click('#delivery-24h');
      await panelShows(page, '24h', expected.total.delivered + 2);
      expect(await page.$eval('#delivery-24h', (node) => node.getAttribute('aria-pressed'))).toBe('true');
      expect(await page.$eval('#delivery-1h', (node) => node.getAttribute('aria-pressed'))).toBe('false');
      const rcs: ExpectedGroup = {
        key: 'rcs',
        delivered: 2,
        failed: 1,
        pending: 0,
        rate: 2 / 3,
        p50Seconds: binQuantile([30, 100], 0.5),
        p90Seconds: binQuantile([30, 100], 0.9),
      };
      expect(await rowsOf(page, 'delivery-by-channel')).toEqual(
        [...expected.byChannel, rcs].sort((a, b) => (a.key < b.key ? -1 : 1)).map(shown),
      );
      expect((await rowsOf(page, 'delivery-by-country')).find((row) => row.key === 'FI')).toEqual(
        shown({ ...rcs, key: 'FI' }),
      );
      expect(await page.$eval('#delivery-failed', (node) => node.textContent)).toBe(
        String(expected.total.failed + 1),
      );

      // The charts are drawn without anything the policy blocks (inline style, say).
      expect(logged.filter((line) => /Content.Security.Policy|Refused to/i.test(line))).toEqual([]);
      expect(await page.$$eval('#delivery-section [style]', (nodes) => nodes.length)).toBe(0);

      // And back: the hour has no RCS row.
      await page.click('#delivery-1h');
      await panelShows(page, '1h', expected.total.delivered);
      expect((await rowsOf(page, 'delivery-by-channel')).map((row) => row.key)).not.toContain('rcs');
    },
  );

  it('updates with the board refresh cycle as reports arrive', async () => {
    await board.start('fastify');
    const page = await board.open();
    await panelShows(page, '1h', 0);
    expect(await texts(page, '#delivery-by-channel td.empty')).toEqual(['No messages in this window']);
    for (const body of streamBodies(Date.now() - 60_000).slice(0, 2)) {
      expect((await board.post(body)).status).toBe(200);
    }
    await panelShows(page, '1h', 1);
    expect(await rowsOf(page, 'delivery-by-channel')).toEqual([
      shown({ key: 'sms', delivered: 1, failed: 0, pending: 0, rate: 1, p50Seconds: 5, p90Seconds: 5 }),
    ]);
  });

  it('puts channels and reasons from the store into the page as text, never as markup', async () => {
    const store = new InMemoryDlrStore();
    await board.start('fastify', { dlr: { store } });
    const now = Date.now();
    const hostile = { channel: '<img src=x id=injected>', country: '<b>XX</b>', at: now, receivedAt: now };
    await store.tallyDelivery([
      { ...hostile, messageId: 'h1', step: 'started', reason: null },
      { ...hostile, messageId: 'h1', step: 'failed', reason: '<img src=y id=injected2>' },
    ]);
    const page = await board.open();
    await page.waitForFunction(() => document.getElementById('delivery-failed')?.textContent === '1');
    expect(await texts(page, '#delivery-by-channel th')).toEqual(['<img src=x id=injected>']);
    expect(await texts(page, '#delivery-by-country th')).toEqual(['<b>XX</b>']);
    expect(await texts(page, '#delivery-reasons g.bar text')).toEqual(['<img src=y id=injected2>', '1']);
    expect(await page.$('#injected')).toBeNull();
    expect(await page.$('#injected2')).toBeNull();
    expect(await page.$('#delivery-section b')).toBeNull();
  });

  it('says so when the store keeps no delivery analytics, and asks no more', async () => {
    const store = new InMemoryDlrStore();
    for (const method of ['tallyDelivery', 'deliveryBuckets']) {
      Object.defineProperty(store, method, { value: undefined });
    }
    await board.start('fastify', { dlr: { store } });
    const page = await board.newPage();
    let asked = 0;
    page.on('request', (request) => {
      if (request.url().includes('/api/delivery')) asked++;
    });
    await board.open();
    await page.waitForFunction(
      () =>
        document
          .getElementById('delivery-note')
          ?.textContent?.startsWith('This store keeps no delivery analytics'),
      { timeout: 5_000 },
    );
    expect(await page.$eval('#delivery-body', (node) => (node as HTMLElement).offsetParent)).toBeNull();
    const before = asked;
    // The counts keep refreshing every 2 s; the panel does not ask again.
    await new Promise((done) => setTimeout(done, 4_500));
    expect(before).toBeGreaterThanOrEqual(1);
    expect(asked).toBe(before);
  });
});

/// <reference lib="dom" />
// Callbacks passed to page.$eval, page.evaluate and evaluateOnNewDocument run in the browser.
import type { Page } from 'puppeteer-core';
import { DeliveryStatusService, InMemoryDlrStore, type MessenteDlrModuleOptions } from '../../lib/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { postDlr, type AdapterName } from '../support/app.js';
import { FlakyHandler, startBrowserBoardApp } from '../support/board-app.js';
import { describeInChromium, useBoardInChromium } from '../support/board-browser.js';
import { texts } from '../support/chromium.js';

const SECRET = 'board-search-secret';
const TO = '+3725555555';
const MASKED = '+372*****55';

describeInChromium('the board in Chromium: feed history, search, links, words, dates', () => {
  const board = useBoardInChromium(SECRET);
  let page: Page;

  /** Starts a board app and a page, not loaded yet: reports can arrive before it is opened. */
  async function start(adapter: AdapterName = 'fastify', options: { dlr?: MessenteDlrModuleOptions } = {}) {
    const running = await board.start(adapter, options);
    page = await board.newPage();
    return running;
  }
  /** Loads the board in the page (with a `#q=...` hash, say) and waits until it is live. */
  const open = (hash = '') => board.open(hash);
  const post = async (body: Record<string, unknown>, signed = true) =>
    (await board.post(body, signed)).status;
  /** Waits until the search results are exactly these messages, in this order. */
  const resultsAre = (ids: unknown[]) =>
    page.waitForFunction(
      (expected: string) =>
        JSON.stringify(
          Array.from(document.querySelectorAll('#results div.message')).map((node) =>
            node.getAttribute('data-message-id'),
          ),
        ) === expected,
      { timeout: 5_000 },
      JSON.stringify(ids),
    );

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s starts the feed from the changes that arrived before it was opened, then adds live ones once each',
    async (adapter) => {
      await start(adapter);
      const earlier = [dlrPayload({ status: 'ACCEPTD', to: TO }), dlrPayload({ status: 'FAILED', err: 1 })];
      for (const body of earlier) expect(await post(body)).toBe(200);
      expect(await post({ ...earlier[0], status: 'DELIVRD' })).toBe(200);
      await open();
      await page.waitForFunction(() => document.querySelectorAll('#feed tr.change').length === 3);
      const rows = () =>
        page.$$eval('#feed tr.change', (nodes) =>
          nodes.map((node) => `${node.getAttribute('data-message-id')}:${node.getAttribute('data-status')}`),
        );
      expect(await rows()).toEqual([
        `${String(earlier[0]!['message_id'])}:DELIVRD`,
        `${String(earlier[1]!['message_id'])}:FAILED`,
        `${String(earlier[0]!['message_id'])}:ACCEPTD`,
      ]);
      expect(await texts(page, '#feed tr.change td.to')).toEqual([
        MASKED,
        expect.stringMatching(/^\+\d{3}\*+\d{2}$/),
        MASKED,
      ]);

      const live = dlrPayload({ status: 'UNDELIV' });
      expect(await post(live)).toBe(200);
      await page.waitForSelector(`#feed tr.change[data-message-id="${String(live['message_id'])}"]`);
      expect((await rows())[0]).toBe(`${String(live['message_id'])}:UNDELIV`);
      expect(await rows()).toHaveLength(4);
    },
  );

  it('after a reconnection, fills in what another instance received meanwhile, and repeats nothing', async () => {
    const store = new InMemoryDlrStore();
    const first = await start('fastify', { dlr: { store } });
    await open();
    const seen = dlrPayload({ status: 'ACCEPTD' });
    expect(await post(seen)).toBe(200);
    await page.waitForSelector(`#feed tr.change[data-message-id="${String(seen['message_id'])}"]`);
    // Another instance sharing the store: its changes are not on this instance's stream.
    const other = await startBrowserBoardApp('express', { secret: SECRET, dlr: { store } });
    const elsewhere = dlrPayload({ status: 'DELIVRD' });
    try {
      expect((await postDlr(other.baseUrl, elsewhere, { secret: SECRET })).status).toBe(200);
    } finally {
      await other.close();
    }
    expect(await page.$(`#feed tr.change[data-message-id="${String(elsewhere['message_id'])}"]`)).toBeNull();

    const port = Number(new URL(first.baseUrl).port);
    await first.close();
    board.app = undefined;
    await page.waitForSelector('#connection.down', { timeout: 5_000 });
    await board.start('fastify', { port, dlr: { store } });
    await page.waitForSelector(`#feed tr.change[data-message-id="${String(elsewhere['message_id'])}"]`, {
      timeout: 10_000,
    });
    expect(
      await page.$$eval('#feed tr.change', (nodes) =>
        nodes.map((node) => node.getAttribute('data-message-id')),
      ),
    ).toEqual([elsewhere['message_id'], seen['message_id']]);
  });

  it('searches by the first 8 characters of an id and by a phone number, masked, newest first', async () => {
    await start();
    const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
    const viber = dlrPayload({ omnimessage_id: sms['omnimessage_id'], channel: 'viber', to: TO });
    const other = dlrPayload({ to: '+3726666666' });
    for (const body of [sms, { ...sms, status: 'DELIVRD' }, viber, other]) expect(await post(body)).toBe(200);
    await open();

    // As the CLI prints it: 8 characters.
    await page.type('#search-id', String(sms['message_id']).slice(0, 8));
    await page.keyboard.press('Enter');
    await resultsAre([sms['message_id']]);
    expect(
      await page.$$eval('#results li.report', (items) => items.map((item) => item.dataset['status'])),
    ).toEqual(['ACCEPTD', 'DELIVRD']);

    await page.$eval('#search-id', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#search-id', TO);
    await page.keyboard.press('Enter');
    await resultsAre([viber['message_id'], sms['message_id']]);
    expect((await texts(page, '#results li.report .to')).every((text) => text === `to ${MASKED}`)).toBe(true);
    expect(await page.$eval('#results', (node) => node.textContent)).not.toContain(TO);
  });

  it('makes ids in the feed, the pending list and the results links that open their search', async () => {
    await start();
    FlakyHandler.failing = true;
    const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
    const viber = dlrPayload({ omnimessage_id: sms['omnimessage_id'], channel: 'viber' });
    await open();
    for (const body of [sms, viber]) expect(await post(body)).toBe(200);
    const smsId = String(sms['message_id']);

    const feedLink = `#feed tr.change[data-message-id="${smsId}"] a.search-link`;
    await page.waitForSelector(feedLink);
    expect(await page.$eval(feedLink, (node) => node.getAttribute('href'))).toBe(
      `#q=${encodeURIComponent(smsId)}`,
    );
    await page.click(feedLink);
    await resultsAre([smsId]);
    expect(await page.evaluate(() => location.hash)).toBe(`#q=${encodeURIComponent(smsId)}`);
    expect(await page.$eval('#search-id', (node) => (node as HTMLInputElement).value)).toBe(smsId);

    // From a result to its omnimessage: every message sent together.
    await page.click('#results div.message h3 a.search-link:nth-of-type(2)');
    await resultsAre([viber['message_id'], smsId]);

    const pendingLink = `#pending tr.pending[data-message-id="${smsId}"] a.search-link`;
    await page.waitForSelector(pendingLink, { timeout: 5_000 });
    await page.click(pendingLink);
    await resultsAre([smsId]);
    // The same link again runs the search again (no hash change to wake it).
    await page.$eval('#results', (node) => node.replaceChildren());
    await page.click(pendingLink);
    await resultsAre([smsId]);

    // The link opened elsewhere (a new tab, a bookmark) runs the same search.
    const href = await page.$eval(pendingLink, (node) => (node as HTMLAnchorElement).href);
    await page.goto('about:blank');
    await page.goto(href);
    await resultsAre([smsId]);
  });

  it('words terms for support staff and keeps each code in a tooltip', async () => {
    await start();
    FlakyHandler.failing = true;
    const body = dlrPayload({ status: 'DELIVRD', to: TO });
    expect(await post(body)).toBe(200);
    expect(await post({ ...body, status: 'ACK' })).toBe(200); // stale
    expect(await post(body)).toBe(200); // a redelivery: its handler has not succeeded
    expect(await post(dlrPayload(), false)).toBe(401);
    await open(`#q=${encodeURIComponent(String(body['message_id']))}`);
    await page.waitForSelector('#refusals tr.refusal');
    await page.waitForSelector('#results li.report');

    const counts = await page.$$eval('#counts-outcome dt', (nodes) =>
      Object.fromEntries(nodes.map((node) => [(node as HTMLElement).title, node.textContent])),
    );
    expect(counts).toMatchObject({
      stale: 'Arrived late (kept in history)',
      redelivery: 'Sent again, handlers re-run',
      pending: 'Waiting for handlers',
      duplicate: 'Repeated reports (ignored)',
    });
    expect(await page.$eval('#count-stale', (node) => node.textContent)).toBe('1');
    expect(await page.$eval('#count-redelivery', (node) => node.textContent)).toBe('1');
    expect(
      await page.$eval('#pending-title .term', (node) => [node.textContent, (node as HTMLElement).title]),
    ).toEqual(['Waiting for handlers', 'pending']);
    expect(
      await page.$$eval('#results li.report .outcome', (nodes) =>
        nodes.map((node) => [node.textContent, (node as HTMLElement).title]),
      ),
    ).toEqual([
      ['new status', 'change'],
      ['arrived late, older than the status shown', 'stale'],
    ]);
    expect(
      await page.$eval('#refusals td.reason .term', (node) => [
        node.textContent,
        (node as HTMLElement).title,
      ]),
    ).toEqual(['Not signed', 'signature_missing']);
    // No bare code is left as a label.
    const labels = await texts(page, '#counts-outcome dt, #refusals td.reason, #results .outcome, h2');
    for (const code of ['stale', 'redelivery', 'redeliveries', 'pending', 'signature_missing']) {
      expect(labels.filter((label) => label.toLowerCase() === code)).toEqual([]);
    }
  });

  it('shows times of today by the clock alone, and older ones with their date', async () => {
    await start();
    const body = dlrPayload({ status: 'ACCEPTD', to: TO });
    expect(await post(body)).toBe(200);
    expect(await post(dlrPayload(), false)).toBe(401);
    const selector = '#feed tr.change td.time, #refusals tr.refusal td.time, #results li.report .time';
    /** The feed's, the refusals' and the search result's time, once all are shown. */
    const times = async () => {
      await page.waitForFunction((all) => document.querySelectorAll(all).length === 3, {}, selector);
      return page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent ?? ''));
    };
    const search = `#q=${encodeURIComponent(String(body['message_id']))}`;
    await open(search);
    const [today, clock] = await page.evaluate(() => [
      new Date().toLocaleDateString(),
      new Date().toLocaleTimeString(),
    ]);
    const shownToday = await times();
    // A time of day (same shape as the clock's), no date.
    expect(shownToday.map((text) => text.replace(/\d/g, '0'))).toEqual(
      Array(3).fill(clock.replace(/\d/g, '0')),
    );
    expect(shownToday.filter((text) => text.includes(today))).toEqual([]);

    // The same page two days later: the same reports now carry their date.
    await page.evaluateOnNewDocument(() => {
      const RealDate = Date;
      const shift = 2 * 24 * 3600 * 1000;
      class Later extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(RealDate.now() + shift);
          else super(...(args as [string]));
        }
        static override now() {
          return RealDate.now() + shift;
        }
      }
      window.Date = Later as DateConstructor;
    });
    await page.reload();
    await page.waitForSelector('#connection.live', { timeout: 5_000 });
    expect(await page.evaluate(() => new Date().toLocaleDateString())).not.toBe(today);
    const shownLater = await times();
    expect(shownLater.filter((text) => text.includes(today) && text.length > today.length)).toHaveLength(3);
  });

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s finds a tracked send by its ref and shows its result, the channel that delivered it and its messages',
    async (adapter) => {
      const running = await start(adapter);
      const sent = buildSendAnswer({ channels: ['viber', 'sms'], to: TO });
      await running.app.get(DeliveryStatusService).track(sent, { ref: 'order-123' });
      const report = (index: number, status: string) =>
        dlrPayload({
          message_id: sent.messages[index]!.message_id,
          omnimessage_id: sent.omnimessage_id,
          channel: sent.messages[index]!.channel,
          to: TO,
          status,
        });
      expect(await post(report(0, 'FAILED'))).toBe(200);
      expect(await post(report(1, 'DELIVRD'))).toBe(200);
      await open('#q=order-123');
      await page.waitForSelector('#results div.outcome[data-result="delivered"]', { timeout: 5_000 });
      const [outcome] = await texts(page, '#results div.outcome');
      expect(outcome).toContain('Tracked send order-123');
      expect(outcome).toContain('via sms');
      expect(outcome).toContain(`to ${MASKED}`);
      expect(outcome).not.toContain(TO);
      // Its messages, in fallback order.
      await resultsAre([sent.messages[0]!.message_id, sent.messages[1]!.message_id]);
    },
  );
});

/// <reference lib="dom" />
// Callbacks passed to page.$eval and page.evaluate run in the browser.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page, Viewport } from 'puppeteer-core';
import { dlrPayload } from '../../lib/testing/index.js';
import type { AdapterName } from '../support/app.js';
import { FlakyHandler } from '../support/board-app.js';
import { describeInChromium, useBoardInChromium } from '../support/board-browser.js';
import { texts } from '../support/chromium.js';

const SECRET = 'board-browser-secret';
const TO = '+3725555555';
const MASKED = '+372*****55';
/** Screenshots of the page go here (gitignored), to be looked at. */
const OUTPUT = resolve(process.cwd(), '.tmp');

/** Waits up to `timeoutMs` for a feed row of this change. */
function feedRow(page: Page, messageId: unknown, status: string, timeoutMs = 2_000) {
  return page.waitForSelector(
    `#feed tr.change[data-message-id="${String(messageId)}"][data-status="${status}"]`,
    {
      timeout: timeoutMs,
    },
  );
}

describeInChromium('the board in Chromium', () => {
  const board = useBoardInChromium(SECRET);
  let page: Page;

  beforeAll(() => {
    mkdirSync(OUTPUT, { recursive: true });
  });

  /** Starts a board app and opens its page in a window of this size. */
  async function open(adapter: AdapterName = 'fastify', viewport: Viewport = { width: 1280, height: 900 }) {
    const running = await board.start(adapter);
    await board.newPage(viewport);
    page = await board.open();
    return running;
  }
  const { post } = board;

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s shows each signed report in the feed within 2 s, newest first, coloured and labelled, recipients masked',
    async (adapter) => {
      await open(adapter);
      const viber = dlrPayload({ channel: 'viber', status: 'ACCEPTD', to: TO });
      const steps: [Record<string, unknown>, string][] = [
        [viber, 'in progress'],
        [{ ...viber, status: 'DELIVRD' }, 'delivered'],
        [dlrPayload({ status: 'FAILED', err: 1, error: 'Delivery failure', to: TO }), 'failed'],
      ];
      for (const [body, state] of steps) {
        expect((await post(body)).status).toBe(200);
        const row = await feedRow(page, body['message_id'], String(body['status']));
        const badge = await row!.$eval('.badge', (node) => ({
          text: node.textContent,
          className: node.className,
        }));
        expect(badge.text).toBe(`${String(body['status'])} (${state})`);
        expect(badge.className).toContain(state.replace(' ', '-'));
      }
      expect(await texts(page, '#feed tr.change td.status')).toEqual([
        'FAILED (failed)',
        'DELIVRD (delivered)',
        'ACCEPTD (in progress)',
      ]);
      expect(await texts(page, '#feed td.to')).toEqual([MASKED, MASKED, MASKED]);
      expect(await page.content()).not.toContain(TO);
      // Delivered, failed and in progress differ in colour too.
      const colours = await page.$$eval('#feed .badge', (nodes) =>
        nodes.map((node) => getComputedStyle(node).backgroundColor),
      );
      expect(new Set(colours).size).toBe(3);
      // The counts by status carry the state the server sends with them, as the feed does.
      await page.waitForFunction(() => document.querySelectorAll('#counts-status .badge').length === 3);
      expect(await texts(page, '#counts-status .badge')).toEqual([
        'ACCEPTD (in progress)',
        'DELIVRD (delivered)',
        'FAILED (failed)',
      ]);
      await page.screenshot({ path: resolve(OUTPUT, `board-${adapter}.png`), fullPage: true });
    },
  );

  it('puts data into the page as text, never as markup', async () => {
    await open();
    const body = dlrPayload({
      status: 'FAILED',
      err: 1,
      error: '<img src=x id=injected>',
      channel: '<b>sms</b>',
    });
    expect((await post(body)).status).toBe(200);
    const row = await feedRow(page, body['message_id'], 'FAILED');
    expect(await row!.$eval('td.channel', (node) => node.textContent)).toBe('<b>sms</b>');
    expect(await row!.$eval('td.error', (node) => node.textContent)).toBe('1 <img src=x id=injected>');
    expect(await page.$('#injected')).toBeNull();
    expect(await page.$('#feed b')).toBeNull();
  });

  it('lists an unsigned report under refusals, its reason in plain words with the code in the tooltip, and the IP', async () => {
    await open();
    expect((await post(dlrPayload(), false)).status).toBe(401);
    await page.waitForSelector('#refusals tr.refusal', { timeout: 5_000 });
    const [reason, code, ip, status] = await Promise.all([
      texts(page, '#refusals tr.refusal td.reason'),
      page.$$eval('#refusals tr.refusal td.reason [title]', (nodes) =>
        nodes.map((node) => (node as HTMLElement).title),
      ),
      texts(page, '#refusals tr.refusal td.ip'),
      texts(page, '#refusals tr.refusal td.http'),
    ]);
    expect(reason).toEqual(['Not signed']);
    expect(code).toEqual(['signature_missing']);
    expect(ip[0]).toMatch(/127\.0\.0\.1$/);
    expect(status).toEqual(['401']);
    expect(await page.$eval('#count-refused', (node) => node.textContent)).toBe('1');
  });

  it('finds every report of a message, oldest first, with its outcome, by message and by omnimessage id', async () => {
    await open();
    const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
    const viber = dlrPayload({ omnimessage_id: sms['omnimessage_id'], channel: 'viber', status: 'SEEN' });
    for (const body of [
      sms,
      { ...sms, status: 'DELIVRD' },
      { ...sms, status: 'DELIVRD' },
      { ...sms, status: 'ACK' },
      viber,
    ]) {
      expect((await post(body)).status).toBe(200);
    }
    // Keyboard only: focus the labelled field, type, press Enter.
    await page.focus('#search-id');
    await page.keyboard.type(String(sms['message_id']));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#results li.report');
    expect(
      await page.$$eval('#results li.report', (items) =>
        items.map((item) => `${item.dataset['status']}:${item.dataset['outcome']}`),
      ),
    ).toEqual(['ACCEPTD:change', 'DELIVRD:change', 'ACK:stale']);
    expect((await texts(page, '#results li.report')).every((text) => text.includes(MASKED))).toBe(true);

    await page.$eval('#search-id', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#search-id', String(sms['omnimessage_id']));
    await page.click('#search button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#results div.message').length === 2);
    expect(
      (
        await page.$$eval('#results div.message', (nodes) =>
          nodes.map((node) => node.getAttribute('data-message-id')),
        )
      ).sort(),
    ).toEqual([sms['message_id'], viber['message_id']].sort());

    await page.$eval('#search-id', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#search-id', 'nothing-known');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() =>
      document.querySelector('#results')?.textContent?.includes('Nothing is known'),
    );
  });

  it.each<AdapterName>(['express', 'fastify'])(
    "on %s shows a failing handler's change as pending; the button redispatches it and the row leaves",
    async (adapter) => {
      await open(adapter);
      FlakyHandler.failing = true;
      const body = dlrPayload({ to: TO });
      expect((await post(body)).status).toBe(200);
      const selector = `#pending tr.pending[data-message-id="${String(body['message_id'])}"]`;
      await page.waitForSelector(selector, { timeout: 5_000 });
      expect(await page.$eval(`${selector} td.to`, (node) => node.textContent)).toBe(MASKED);
      expect(await page.$eval('#pending-count', (node) => node.textContent)).toBe('1');
      expect(FlakyHandler.calls).toHaveLength(1);

      FlakyHandler.failing = false;
      // By keyboard, as a screen-reader user would.
      await page.focus('#redispatch');
      await page.keyboard.press('Enter');
      await page.waitForFunction((gone) => !document.querySelector(gone), { timeout: 5_000 }, selector);
      expect(FlakyHandler.calls).toEqual([
        `${String(body['message_id'])}:DELIVRD`,
        `${String(body['message_id'])}:DELIVRD`,
      ]);
      await page.waitForFunction(() =>
        document.querySelector('#redispatch-note')?.textContent?.includes('Dispatched 1'),
      );
      expect(await page.$eval('#pending-count', (node) => node.textContent)).toBe('0');
    },
  );

  it('keeps updating after the app restarts on the same port', async () => {
    const first = await open();
    const port = Number(new URL(first.baseUrl).port);
    const before = dlrPayload();
    await post(before);
    await feedRow(page, before['message_id'], 'DELIVRD');

    await first.close();
    board.app = undefined;
    await page.waitForSelector('#connection.down', { timeout: 5_000 });
    await board.start('fastify', { port });
    await page.waitForSelector('#connection.live', { timeout: 10_000 });
    const after = dlrPayload({ status: 'UNDELIV' });
    expect((await post(after)).status).toBe(200);
    await feedRow(page, after['message_id'], 'UNDELIV');
    // The feed kept what it showed before the restart.
    expect(await page.$(`#feed tr.change[data-message-id="${String(before['message_id'])}"]`)).not.toBeNull();
  });

  it('reads on a phone: one column, no sideways scrolling of the page; labelled controls; readable contrast', async () => {
    await open('fastify', { width: 390, height: 844, isMobile: true, hasTouch: true });
    await post(dlrPayload({ status: 'ACCEPTD', to: TO }));
    await post(dlrPayload({ status: 'FAILED', to: TO }));
    await post(dlrPayload({ status: 'DELIVRD', to: TO }));
    await page.waitForFunction(() => document.querySelectorAll('#feed tr.change').length === 3);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const sections = await page.$$eval('main > section', (nodes) =>
      nodes.map((node) => node.getBoundingClientRect().left),
    );
    expect(new Set(sections).size).toBe(1);
    await page.screenshot({ path: resolve(OUTPUT, 'board-phone.png'), fullPage: true });

    expect(
      await page.$$eval(
        'input, button',
        (nodes) =>
          nodes.filter((node) => {
            const labelled =
              node instanceof HTMLInputElement
                ? (node.labels?.length ?? 0) > 0
                : (node.textContent ?? '').trim() !== '';
            return !labelled;
          }).length,
      ),
    ).toBe(0);
    // WCAG AA: text of statuses and controls at least 4.5:1 against its background.
    const ratios = await page.$$eval('.badge, button, #connection, th, .note', (nodes) => {
      const rgb = (value: string) => (value.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const luminance = (value: string) => {
        const [r, g, b] = rgb(value).map((c) => {
          const s = c / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const background = (node: Element | null): string => {
        for (let current = node; current; current = current.parentElement) {
          const colour = getComputedStyle(current).backgroundColor;
          if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
        }
        return 'rgb(255, 255, 255)';
      };
      return nodes.map((node) => {
        const [a, b] = [luminance(getComputedStyle(node).color), luminance(background(node))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      });
    });
    expect(ratios.length).toBeGreaterThan(5);
    expect(Math.min(...ratios)).toBeGreaterThanOrEqual(4.5);
  });
});

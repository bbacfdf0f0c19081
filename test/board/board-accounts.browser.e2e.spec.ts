/// <reference lib="dom" />
// Callbacks passed to page.$eval, page.evaluate and page.waitForFunction run in the browser.
import type { Page } from 'puppeteer-core';
import { dlrPayload } from '../../lib/testing/index.js';
import { postDlr, type AdapterName } from '../support/app.js';
import { FlakyHandler } from '../support/board-app.js';
import { describeInChromium, useBoardInChromium } from '../support/board-browser.js';

const EE_SECRET = 'ee-secret';
const LV_SECRET = 'lv-secret';
const ACCOUNTS = [
  { id: 'shop-ee', signatureSecrets: [EE_SECRET] },
  { id: 'shop-lv', signatureSecrets: [LV_SECRET] },
];

describeInChromium('the board in Chromium: the account column and filter', () => {
  // The suite's secret is shop-ee's: `board.post` signs as shop-ee.
  const board = useBoardInChromium(EE_SECRET);

  /** Whether the element matching `selector` takes space on the page. */
  const visible = (page: Page, selector: string) =>
    page.$eval(selector, (node) => (node as HTMLElement).offsetParent !== null);
  /** `message id:account` of each feed row the page shows, top first. */
  const shownRows = (page: Page) =>
    page.$$eval('#feed tr.change', (rows) =>
      rows
        .filter((row) => !(row as HTMLElement).hidden && (row as HTMLElement).offsetParent !== null)
        .map(
          (row) => `${row.getAttribute('data-message-id')}:${row.querySelector('td.account')?.textContent}`,
        ),
    );

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s shows whose each report is, and the reports of one account when asked',
    async (adapter) => {
      const app = await board.start(adapter, { dlr: { signatureSecrets: undefined, accounts: ACCOUNTS } });
      const ee = dlrPayload({ status: 'DELIVRD' });
      const lv = dlrPayload({ status: 'FAILED', err: 1 });
      expect((await board.post(ee)).status).toBe(200);
      const page = await board.open();
      await page.waitForSelector('#feed tr.change');
      // A live one from the other account.
      expect((await postDlr(app.baseUrl, lv, { secret: LV_SECRET })).status).toBe(200);
      await page.waitForFunction(() => document.querySelectorAll('#feed tr.change').length === 2);

      expect(await visible(page, '#feed-table th.account')).toBe(true);
      expect(await shownRows(page)).toEqual([
        `${String(lv['message_id'])}:shop-lv`,
        `${String(ee['message_id'])}:shop-ee`,
      ]);
      expect(await visible(page, '#account-filter')).toBe(true);
      expect(
        await page.$$eval('#account-filter option', (options) =>
          options.map((option) => `${(option as HTMLOptionElement).value}=${option.textContent}`),
        ),
      ).toEqual(['=All accounts', 'shop-ee=shop-ee', 'shop-lv=shop-lv']);

      await page.select('#account-filter', 'shop-ee');
      expect(await shownRows(page)).toEqual([`${String(ee['message_id'])}:shop-ee`]);
      expect(await page.$eval('#account-filter-note', (node) => node.textContent)).toMatch(/1 report/);
      // A new report of the other account arrives hidden; one of the chosen account shows.
      const lvLater = dlrPayload({ status: 'ACCEPTD' });
      const eeLater = dlrPayload({ status: 'ACCEPTD' });
      expect((await postDlr(app.baseUrl, lvLater, { secret: LV_SECRET })).status).toBe(200);
      expect((await board.post(eeLater)).status).toBe(200);
      await page.waitForFunction(() => document.querySelectorAll('#feed tr.change').length === 4);
      expect(await shownRows(page)).toEqual([
        `${String(eeLater['message_id'])}:shop-ee`,
        `${String(ee['message_id'])}:shop-ee`,
      ]);

      await page.select('#account-filter', 'shop-lv');
      expect(await shownRows(page)).toEqual([
        `${String(lvLater['message_id'])}:shop-lv`,
        `${String(lv['message_id'])}:shop-lv`,
      ]);
      await page.select('#account-filter', '');
      expect(await shownRows(page)).toHaveLength(4);
      expect(await page.$eval('#account-filter-note', (node) => node.textContent)).toBe('');

      // The list of changes waiting for handlers names their account too.
      FlakyHandler.failing = true;
      expect(
        (await postDlr(app.baseUrl, { ...lvLater, status: 'DELIVRD' }, { secret: LV_SECRET })).status,
      ).toBe(200);
      await page.waitForSelector('#pending tr.pending td.account');
      expect(
        await page.$$eval('#pending tr.pending td.account', (cells) => cells.map((c) => c.textContent)),
      ).toEqual(['shop-lv']);
      expect(await visible(page, '#pending-table th.account')).toBe(true);
    },
  );

  it('shows no account column and no filter in an app without accounts', async () => {
    await board.start('fastify');
    const page = await board.open();
    expect((await board.post(dlrPayload({ status: 'DELIVRD' }))).status).toBe(200);
    await page.waitForSelector('#feed tr.change');
    expect(await visible(page, '#feed-table th.account')).toBe(false);
    expect(await visible(page, '#feed tr.change td.account')).toBe(false);
    expect(await visible(page, '#account-filter')).toBe(false);
    expect(await visible(page, '#pending-table th.account')).toBe(false);
  });
});

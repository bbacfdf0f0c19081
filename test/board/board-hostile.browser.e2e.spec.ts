/// <reference lib="dom" />
// Callbacks passed to page.$eval and page.evaluate run in the browser.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dlrPayload } from '../../lib/testing/index.js';
import { postDlr, type AdapterName } from '../support/app.js';
import { FlakyHandler } from '../support/board-app.js';
import { describeInChromium, useBoardInChromium } from '../support/board-browser.js';

const SECRET = 'board-hostile-secret';
/** Markup that would make an element, and run a script were scripts allowed, if it became HTML. */
const markup = (name: string) =>
  `<img src=x id=${name} onerror="window.__ran=(window.__ran||[]).concat('${name}')">`;

/** Serves one HTML document on loopback under `localhost`: another site than the board's 127.0.0.1. */
async function serveOtherSite(html: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/`, server };
}

describeInChromium('the board in Chromium against hostile input', () => {
  const board = useBoardInChromium(SECRET);

  it.each<AdapterName>(['express', 'fastify'])(
    'on %s shows a forged client IP (trust proxy) and markup in a report as text: no element made, no script run',
    async (adapter) => {
      // Behind a trusted proxy the client IP is whatever X-Forwarded-For says.
      const running = await board.start(adapter, { trustProxy: true });
      const forgedIp = markup('from-ip');
      const refused = await postDlr(running.baseUrl, dlrPayload(), {
        secret: SECRET,
        headers: { 'x-forwarded-for': forgedIp },
      });
      expect(refused.status).toBe(403);
      const body = dlrPayload({
        status: 'FAILED',
        err: 1,
        error: markup('from-error'),
        channel: markup('from-channel'),
      });
      expect((await board.post(body)).status).toBe(200);

      const page = await board.open(`#q=${encodeURIComponent(String(body['message_id']))}`);
      await page.waitForSelector('#refusals tr.refusal td.ip');
      await page.waitForSelector('#results li.report');
      expect(await page.$eval('#refusals tr.refusal td.ip', (node) => node.textContent)).toBe(forgedIp);
      expect(await page.$eval('#results li.report .error', (node) => node.textContent)).toBe(
        `error 1 ${markup('from-error')}`,
      );
      expect(await page.$eval('#results li.report .channel', (node) => node.textContent)).toBe(
        `via ${markup('from-channel')}`,
      );
      expect(await page.$eval('#feed tr.change td.error', (node) => node.textContent)).toBe(
        `1 ${markup('from-error')}`,
      );
      // No element was made from any of it, anywhere on the page, and nothing ran.
      expect(await page.$$eval('img', (nodes) => nodes.length)).toBe(0);
      expect(await page.evaluate(() => (window as { __ran?: string[] }).__ran ?? [])).toEqual([]);
    },
  );

  it('refuses a cross-site form post and fetch to redispatch: no handler runs', async () => {
    const running = await board.start('fastify');
    FlakyHandler.failing = true;
    expect((await board.post(dlrPayload())).status).toBe(200);
    FlakyHandler.failing = false;
    expect(FlakyHandler.calls).toHaveLength(1);
    const target = `${running.baseUrl}/messente/board/api/pending/redispatch`;
    // What another site can send with the user's cookies: a form post, a no-cors fetch, and a
    // fetch with the board's header (which needs a CORS preflight the board never grants).
    const other = await serveOtherSite(`<!doctype html><body>
      <form id=attack method=post action="${target}"><input name=x value=1></form>
      <script>
        window.results = {};
        fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
          .then(() => { window.results.noCors = 'sent'; }, () => { window.results.noCors = 'failed'; });
        fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', headers: { 'x-messente-board': '1' } })
          .then((r) => { window.results.withHeader = r.status; }, () => { window.results.withHeader = 'blocked'; });
      </script></body>`);
    try {
      const page = await board.newPage();
      await page.goto(other.url, { timeout: 5_000 });
      await page.waitForFunction(
        () => {
          const results = (window as { results?: Record<string, unknown> }).results ?? {};
          return results['noCors'] !== undefined && results['withHeader'] !== undefined;
        },
        { timeout: 5_000 },
      );
      expect(await page.evaluate(() => (window as { results?: unknown }).results)).toEqual({
        noCors: 'sent',
        withHeader: 'blocked',
      });
      const navigation = page.waitForNavigation({ timeout: 5_000 });
      // Submitted after evaluate returns: the navigation would otherwise cut it short.
      await page.evaluate(() =>
        setTimeout(() => (document.getElementById('attack') as HTMLFormElement).submit(), 0),
      );
      const answer = await navigation;
      expect(answer?.status()).toBe(403);
      expect(await page.evaluate(() => document.body.textContent)).toMatch(/Cross-site request refused/);
      expect(FlakyHandler.calls).toHaveLength(1);
      const pending = await fetch(`${running.baseUrl}/messente/board/api/pending`);
      expect(await pending.json()).toMatchObject({ count: 1 });
    } finally {
      // The browser keeps its socket to that site open: close it too.
      other.server.closeAllConnections();
      await new Promise((resolve) => other.server.close(resolve));
    }
  });
});

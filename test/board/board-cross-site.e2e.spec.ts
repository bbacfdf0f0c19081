import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, FROM_BOARD, FlakyHandler, startBoardApp } from '../support/board-app.js';

const SECRET = 'board-cross-site-secret';

// A cookie-based guard lets a browser's request through whichever site made it: the board
// itself must refuse a state-changing request that another site could have sent.
describe.each(ADAPTERS)('board cross-site protection on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  /** An app with one change whose handler failed, so that a redispatch would run it again. */
  async function withPending(trustProxy = false) {
    running = await startBoardApp(adapter, { secret: SECRET, board: { guards: [AdminGuard] }, trustProxy });
    FlakyHandler.failing = true;
    const payload = dlrPayload();
    expect((await postDlr(running.baseUrl, payload, { secret: SECRET })).status).toBe(200);
    FlakyHandler.failing = false;
    expect(FlakyHandler.calls).toHaveLength(1);
    const redispatch = (headers: Record<string, string>) =>
      fetch(`${running!.baseUrl}/messente/board/api/pending/redispatch`, {
        method: 'POST',
        headers: { ...ADMIN, ...headers },
      });
    return { baseUrl: running.baseUrl, redispatch };
  }

  it.each<[string, Record<string, string>, RegExp]>([
    ['no x-messente-board header (a form post, a no-cors fetch)', {}, /x-messente-board: 1/],
    ['x-messente-board other than 1', { 'x-messente-board': 'true' }, /x-messente-board: 1/],
    ['Sec-Fetch-Site: cross-site', { ...FROM_BOARD, 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site/],
    ['Sec-Fetch-Site: same-site', { ...FROM_BOARD, 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site/],
    ['Sec-Fetch-Site: none', { ...FROM_BOARD, 'sec-fetch-site': 'none' }, /Sec-Fetch-Site/],
    [
      'Origin of another site',
      { ...FROM_BOARD, origin: 'https://evil.example' },
      /Origin https:\/\/evil\.example is not this board's origin http:\/\/127\.0\.0\.1:\d+;/,
    ],
    ['Origin null (a sandboxed page)', { ...FROM_BOARD, origin: 'null' }, /Origin/],
  ])('refuses a redispatch with %s: 403, and no handler runs', async (_, headers, message) => {
    const { redispatch } = await withPending();
    const answer = await redispatch(headers);
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { message: string }).message).toMatch(message);
    expect(FlakyHandler.calls).toHaveLength(1);
  });

  it('refuses an Origin with the right host but another port or scheme', async () => {
    const { baseUrl, redispatch } = await withPending();
    const own = new URL(baseUrl);
    for (const origin of [`http://${own.hostname}:${Number(own.port) + 1}`, `https://${own.host}`]) {
      expect([origin, (await redispatch({ ...FROM_BOARD, origin })).status]).toEqual([origin, 403]);
    }
    expect(FlakyHandler.calls).toHaveLength(1);
  });

  it("runs a redispatch from the board's own origin, and from a client that sends no browser headers", async () => {
    const { baseUrl, redispatch } = await withPending();
    // What the page sends from a browser: its own origin, same-origin.
    const fromPage = await redispatch({ ...FROM_BOARD, origin: baseUrl, 'sec-fetch-site': 'same-origin' });
    expect(fromPage.status).toBe(200);
    expect(await fromPage.json()).toEqual({ dispatched: 1 });
    expect(FlakyHandler.calls).toHaveLength(2);
    // curl or a script: only the header.
    const fromScript = await redispatch(FROM_BOARD);
    expect(fromScript.status).toBe(200);
    expect(await fromScript.json()).toEqual({ dispatched: 0 });
  });

  it('behind a trusted proxy, compares Origin with the public scheme and host the proxy forwards', async () => {
    const { redispatch } = await withPending(true);
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'board.example.com' };
    const other = await redispatch({ ...FROM_BOARD, ...forwarded, origin: 'https://evil.example' });
    expect(other.status).toBe(403);
    const own = await redispatch({ ...FROM_BOARD, ...forwarded, origin: 'https://board.example.com' });
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ dispatched: 1 });
  });

  it('GET routes change nothing and need no header', async () => {
    const { redispatch } = await withPending();
    const pending = await fetch(`${running!.baseUrl}/messente/board/api/pending`, {
      headers: { ...ADMIN, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(pending.status).toBe(200);
    expect(await pending.json()).toMatchObject({ count: 1 });
    expect((await redispatch({})).status).toBe(403);
  });
});

import type { Browser, Page, Viewport } from 'puppeteer-core';
import { delay, postDlr, type AdapterName, type PostResult, type TestApp } from './app.js';
import { FlakyHandler, startBrowserBoardApp, type BrowserBoardAppOptions } from './board-app.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { describeRequiring } from './requires.js';

/** A `describe` of board tests in Chromium, skipped (or failed on CI) where Chromium is missing. */
export function describeInChromium(title: string, suite: () => void): void {
  describeRequiring(chromiumAvailable, 'chromium', 'apt-get install -y chromium')(title, suite);
}

/** What a board test in Chromium drives: one browser per suite, a board app and pages per test. */
export interface BoardInChromium {
  /** The suite's browser. */
  readonly browser: Browser;
  /** The current test's latest page (see `newPage`). */
  readonly page: Page;
  /**
   * The board app of the current test, closed after it. A test may set it itself: an app it
   * started with other options, or one restarted on the same port.
   */
  app: TestApp | undefined;
  /** Starts a board app for a browser (`startBrowserBoardApp` with the suite's secret) as `app`. */
  start(adapter?: AdapterName, options?: Omit<BrowserBoardAppOptions, 'secret'>): Promise<TestApp>;
  /** Opens a new page, closed after the test; any error its scripts throw fails the test. */
  newPage(viewport?: Viewport): Promise<Page>;
  /** Loads `app`'s board (in a new page unless the test has one) and waits until its feed is live. */
  open(hash?: string): Promise<Page>;
  /** Posts a report to `app`'s webhook, signed with the suite's secret unless `signed` is false. */
  post(body: Record<string, unknown>, signed?: boolean): Promise<PostResult>;
}

/**
 * Sets up the calling `describe` for board tests in Chromium: launches the browser once, and
 * after each test resets `FlakyHandler`, closes the test's pages and app, and checks that the
 * page's own script never threw.
 */
export function useBoardInChromium(secret: string): BoardInChromium {
  let browser: Browser | undefined;
  let pages: Page[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    FlakyHandler.reset();
    // Bounded: a page that does not close must not keep the app (and jest) alive.
    await Promise.race([Promise.all(pages.map((page) => page.close())), delay(5_000)]);
    pages = [];
    await session.app?.close();
    session.app = undefined;
    expect(pageErrors.splice(0)).toEqual([]);
  });

  const session: BoardInChromium = {
    app: undefined,
    get browser() {
      if (!browser) throw new Error('the browser is launched in beforeAll');
      return browser;
    },
    get page() {
      const page = pages.at(-1);
      if (!page) throw new Error('no page yet: call newPage() or open()');
      return page;
    },
    async start(adapter = 'fastify', options = {}) {
      session.app = await startBrowserBoardApp(adapter, { ...options, secret });
      return session.app;
    },
    async newPage(viewport) {
      const page = await session.browser.newPage();
      pages.push(page);
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      // Before loading: a change of `isMobile` reloads the page.
      if (viewport) await page.setViewport(viewport);
      return page;
    },
    async open(hash = '') {
      const page = pages.at(-1) ?? (await session.newPage());
      await page.goto(`${baseUrl()}/messente/board${hash}`);
      await page.waitForSelector('#connection.live', { timeout: 5_000 });
      return page;
    },
    post(body, signed = true) {
      return postDlr(baseUrl(), body, signed ? { secret } : {});
    },
  };
  const baseUrl = () => {
    if (!session.app) throw new Error('no board app: call start() or set app');
    return session.app.baseUrl;
  };
  return session;
}

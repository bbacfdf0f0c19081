import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's `chromium`, or the browser named by CHROMIUM_PATH. */
export const CHROMIUM_PATH =
  process.env['CHROMIUM_PATH'] ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** True when a Chromium to drive is installed. */
export const chromiumAvailable = CHROMIUM_PATH !== undefined && existsSync(CHROMIUM_PATH);

/** Launches headless Chromium; `--no-sandbox` because CI runs as root. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Text of every element matching `selector`, in document order, trimmed. */
export function texts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent?.trim() ?? ''));
}

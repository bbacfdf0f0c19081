import { createHash } from 'node:crypto';
import { ADAPTERS, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, startBoardApp } from '../support/board-app.js';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe.each(ADAPTERS)('the board page headers on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('serves the whole Content-Security-Policy exactly: only its own inline script and style, its own origin', async () => {
    running = await startBoardApp(adapter, { secret: 'csp-secret', board: { guards: [AdminGuard] } });
    const page = await fetch(`${running.baseUrl}/messente/board`, { headers: ADMIN });
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
    expect([scripts.length, styles.length]).toEqual([1, 1]);
    // Every directive, in full: a policy loosened anywhere (`connect-src *`, `'unsafe-inline'`,
    // a CDN) is a different string.
    expect(page.headers.get('content-security-policy')).toBe(
      [
        "default-src 'none'",
        `script-src ${hash(scripts[0]!)}`,
        `style-src ${hash(styles[0]!)}`,
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });
});

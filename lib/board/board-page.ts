import { createHash } from 'node:crypto';
import { BOARD_PAGE_SCRIPT } from './board-page.script.js';
import { BOARD_PAGE_STYLE } from './board-page.style.js';

/** The board: one document with its style and script inline, so it works offline and behind any proxy. */
export const BOARD_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Delivery reports · Messente</title>
<style>${BOARD_PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>Delivery reports</h1>
  <a id="to-delivery" href="#delivery-section">Delivery rate and times</a>
  <span id="connection" role="status" aria-live="polite">Connecting…</span>
</header>
<main>
  <section id="feed-section" aria-labelledby="feed-title">
    <h2 id="feed-title">Live feed <span class="note">(newest first)</span></h2>
    <label id="account-filter-label" class="filter" hidden>Show the reports of
      <select id="account-filter"><option value="">All accounts</option></select>
    </label>
    <p id="account-filter-note" class="note" role="status" aria-live="polite"></p>
    <div class="scroll">
      <table id="feed-table">
        <thead><tr><th scope="col">Received</th><th scope="col">Status</th><th scope="col">To</th>
          <th scope="col">Message</th><th scope="col" class="account">Account</th><th scope="col" class="wide">Channel</th><th scope="col" class="wide">Previous status</th>
          <th scope="col">Error</th></tr></thead>
        <tbody id="feed"><tr><td class="empty" colspan="8">Waiting for delivery reports…</td></tr></tbody>
      </table>
    </div>
  </section>
  <section id="search-section" aria-labelledby="search-title">
    <h2 id="search-title">Find a message</h2>
    <form id="search" role="search">
      <label for="search-id">Message id, omnimessage id (or their first 8 characters), or phone number
        <input id="search-id" name="q" type="search" autocomplete="off" spellcheck="false" required>
      </label>
      <button type="submit">Search</button>
    </form>
    <div id="results" aria-live="polite"></div>
  </section>
  <section id="counts-section" aria-labelledby="counts-title">
    <h2 id="counts-title">Counts <span id="since" class="note"></span></h2>
    <dl id="counts-outcome" class="counts"></dl>
    <div class="scroll">
      <table>
        <caption>Changes by status</caption>
        <thead><tr><th scope="col">Status</th><th scope="col">Changes</th></tr></thead>
        <tbody id="counts-status"></tbody>
      </table>
    </div>
  </section>
  <section id="pending-section" aria-labelledby="pending-title">
    <h2 id="pending-title"><span class="term" title="pending">Waiting for handlers</span> <span class="note">(<span id="pending-count">0</span> changes whose handlers in the app have not all succeeded)</span></h2>
    <button id="redispatch" type="button" title="redispatch">Run their handlers again</button>
    <p id="redispatch-note" class="note" role="status" aria-live="polite"></p>
    <div class="scroll">
      <table id="pending-table">
        <thead><tr><th scope="col">Received</th><th scope="col">Status</th><th scope="col">To</th><th scope="col">Message</th><th scope="col" class="account">Account</th></tr></thead>
        <tbody id="pending"></tbody>
      </table>
    </div>
  </section>
  <section id="refusals-section" aria-labelledby="refusals-title">
    <h2 id="refusals-title">Refused requests <span class="note">(reports the webhook turned away, latest first)</span></h2>
    <div class="scroll">
      <table>
        <thead><tr><th scope="col">At</th><th scope="col">Reason</th><th scope="col">From address</th><th scope="col"><span class="term" title="HTTP status">Answer</span></th></tr></thead>
        <tbody id="refusals"></tbody>
      </table>
    </div>
  </section>
  <section id="delivery-section" aria-labelledby="delivery-title">
    <h2 id="delivery-title">Delivery <span id="delivery-range" class="note"></span></h2>
    <div id="delivery-windows" class="toggle" role="group" aria-label="Window">
      <button id="delivery-1h" type="button" data-window="1h" aria-pressed="true">Last hour</button>
      <button id="delivery-24h" type="button" data-window="24h" aria-pressed="false">Last 24 hours</button>
    </div>
    <p id="delivery-note" class="note" role="status" aria-live="polite"></p>
    <div id="delivery-body">
      <dl id="delivery-total" class="counts"></dl>
      <h3 id="delivery-reasons-title">Failures by reason</h3>
      <div id="delivery-reasons"></div>
      <p class="legend note" aria-hidden="true"><span><svg class="swatch" viewBox="0 0 10 10" width="10" height="10"><rect class="seg-delivered" width="10" height="10"/></svg> delivered</span>
        <span><svg class="swatch" viewBox="0 0 10 10" width="10" height="10"><rect class="seg-failed" width="10" height="10"/></svg> failed</span>
        <span><svg class="swatch" viewBox="0 0 10 10" width="10" height="10"><rect class="seg-pending" width="10" height="10"/></svg> pending</span>
        <span><svg class="swatch" viewBox="0 0 10 10" width="10" height="10"><rect class="time-median" x="4" width="2" height="10"/></svg> median, <svg class="swatch" viewBox="0 0 10 10" width="10" height="10"><rect class="time-span" y="2" width="10" height="6"/></svg> to 90% of deliveries (log scale)</span></p>
      <div class="scroll">
        <table id="delivery-channels">
          <caption>By channel</caption>
          <thead><tr><th scope="col">Channel</th><th scope="col"><span class="term" title="delivered / (delivered + failed); the bar adds pending">Delivery rate</span></th>
            <th scope="col">Delivered</th><th scope="col">Failed</th><th scope="col"><span class="term" title="started in the window, no final report yet">Pending</span></th>
            <th scope="col"><span class="term" title="median, as the upper bound of its histogram bin">Median</span></th><th scope="col"><span class="term" title="90th percentile, as the upper bound of its histogram bin">90%</span></th>
            <th scope="col" class="wide"><span class="sr-only">Time to deliver, median to 90th percentile</span><span class="axis"></span></th></tr></thead>
          <tbody id="delivery-by-channel"></tbody>
        </table>
      </div>
      <div class="scroll">
        <table id="delivery-countries">
          <caption>By country</caption>
          <thead><tr><th scope="col">Country</th><th scope="col">Delivery rate</th>
            <th scope="col">Delivered</th><th scope="col">Failed</th><th scope="col">Pending</th>
            <th scope="col">Median</th><th scope="col">90%</th>
            <th scope="col" class="wide"><span class="sr-only">Time to deliver, median to 90th percentile</span><span class="axis"></span></th></tr></thead>
          <tbody id="delivery-by-country"></tbody>
        </table>
      </div>
    </div>
  </section>
</main>
<script>${BOARD_PAGE_SCRIPT}</script>
</body>
</html>
`;

/** A CSP source allowing exactly this inline text (UTF-8, as the page is sent). */
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's Content-Security-Policy: only its own inline style and script (by hash) run, and
 * it talks to its own origin only, so data that slipped into the DOM could not run or leak.
 * The hashes are computed once, when this module loads, from the very strings inlined above:
 * the script's text depends on how its TypeScript was compiled (tsc for dist/, ts-jest for
 * tests), so a hash written down by hand would go stale.
 */
export const BOARD_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(BOARD_PAGE_SCRIPT)}`,
  `style-src ${sha256(BOARD_PAGE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

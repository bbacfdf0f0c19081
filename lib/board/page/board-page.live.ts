/// <reference lib="dom" />
import type { BoardPageFeed } from './board-page.feed.js';
import type { BoardPageKit } from './board-page.kit.js';
import type { BoardPagePanels } from './board-page.panels.js';
import type { BoardPageSearch } from './board-page.search.js';
import type { WireChange } from './board-page.wire.js';

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/**
 * Starts the page: the live stream, a first refresh of the panels and the search the URL
 * names. `EventSource` reconnects by itself after a dropped connection; when it gives up (an
 * answer that is not a stream, e.g. while the app restarts) a new one is opened. Each
 * (re)connection fills in what arrived while the page was not listening. Browser code, inlined
 * by its source text: nothing from outside its body but types.
 */
export function boardPageLive(
  { api, byId }: BoardPageKit,
  feed: BoardPageFeed,
  panels: BoardPagePanels,
  search: BoardPageSearch,
): void {
  const connection = byId('connection');

  function setLive(live: boolean): void {
    connection.textContent = live ? 'Live' : 'Reconnecting…';
    connection.className = live ? 'live' : 'down';
  }

  function connect(): void {
    const source = new EventSource(api + 'changes');
    source.addEventListener('open', () => {
      setLive(true);
      void panels.refresh();
      void feed.loadRecent();
    });
    source.addEventListener('change', (event) => {
      feed.addChange(JSON.parse((event as MessageEvent<string>).data) as WireChange);
      void panels.refresh();
    });
    source.addEventListener('error', () => {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, 2000);
      }
    });
  }

  setLive(false);
  connect();
  void panels.refresh();
  search.searchFromUrl();
}

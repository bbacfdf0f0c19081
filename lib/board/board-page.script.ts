import { boardPageChart } from './page/board-page.chart.js';
import { boardPageDelivery } from './page/board-page.delivery.js';
import { boardPageFeed } from './page/board-page.feed.js';
import { boardPageKit } from './page/board-page.kit.js';
import { boardPageLive } from './page/board-page.live.js';
import { boardPagePanels } from './page/board-page.panels.js';
import { boardPageSearch } from './page/board-page.search.js';

/**
 * The board page's script, built once at startup from the source text of the functions in
 * page/. They are real TypeScript, type-checked against the DOM and the server's answer types
 * and linted like the rest; what tsc (or ts-jest, for tests run from source) emits for them is
 * plain ES2022 with the types gone, which is what the browser runs. Each part takes what it
 * needs as parameters and uses nothing else from its module, so its text runs on its own; no
 * bundler or build step is needed, in dist/ or under ts-jest. (Each file there says `istanbul
 * ignore file`: coverage instrumentation would put counters into the text that the browser
 * cannot see.) The DOM types come from a `/// <reference lib="dom" />` in those files, as the
 * project's tsconfig has none: tsc drops the reference from the declarations it emits.
 */
export const BOARD_PAGE_SCRIPT = `
'use strict';
(() => {
  const kit = (${boardPageKit.toString()})();
  const delivery = (${boardPageDelivery.toString()})(kit, (${boardPageChart.toString()})());
  (${boardPageLive.toString()})(
    kit,
    (${boardPageFeed.toString()})(kit),
    (${boardPagePanels.toString()})(kit, delivery),
    (${boardPageSearch.toString()})(kit),
  );
})();
`;

// The script is inlined in a <script> element: text that would end it early or open an HTML
// comment inside it must never be emitted, whatever a later edit of page/ writes.
if (/<\/script|<!--/i.test(BOARD_PAGE_SCRIPT)) {
  throw new Error('The board page script contains "</script" or "<!--" and cannot be inlined');
}

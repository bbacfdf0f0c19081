/** The board page's stylesheet: system fonts, no external resource; statuses carry text as well as colour. */
export const BOARD_PAGE_STYLE = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4d4d4d; --bg: #f6f7f9; --card: #fff; --line: #d5d8dc;
  --accent: #0b57d0; --ok-bg: #dff3e4; --ok-fg: #0a4f1c; --bad-bg: #fde3e3; --bad-fg: #8c0f0f;
  --wait-bg: #fff1c7; --wait-fg: #5c4300; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h3 { font-size: .95rem; margin: .75rem 0 .25rem; word-break: break-all; }
main { display: grid; gap: 1rem; padding: 1rem; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); max-width: 1400px; margin: 0 auto; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; min-width: 0; }
#feed-section { grid-column: 1; grid-row: 1 / span 3; }
@media (max-width: 800px) { main { grid-template-columns: minmax(0, 1fr); padding: .5rem; } #feed-section { grid-row: auto; } }
/* On a phone the feed keeps what support staff ask about: when, status, recipient, id, error. */
@media (max-width: 600px) {
  .wide { display: none; }
  #feed-section thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  #feed tr.change { display: grid; grid-template-columns: auto 1fr; gap: .15rem .6rem; padding: .45rem 0; border-bottom: 1px solid var(--line); }
  #feed tr.change td { border: 0; padding: 0; }
  #feed tr.change td.id, #feed tr.change td.error { grid-column: 1 / -1; }
  #feed tr.change td.error:empty { display: none; }
}
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: .25rem; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.time { white-space: nowrap; }
td.id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .8rem; word-break: break-all; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-weight: 600; font-size: .8rem; white-space: nowrap; border: 1px solid currentColor; }
.badge .state { font-weight: 400; }
.delivered { background: var(--ok-bg); color: var(--ok-fg); }
.failed { background: var(--bad-bg); color: var(--bad-fg); }
.in-progress { background: var(--wait-bg); color: var(--wait-fg); }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr)); gap: .5rem; margin: 0 0 .75rem; }
.counts div { border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; }
.counts dt { color: var(--muted); font-size: .8rem; }
.counts dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
#connection { font-size: .85rem; padding: .15rem .6rem; border-radius: 999px; border: 1px solid currentColor; }
#connection.live { color: var(--ok-fg); background: var(--ok-bg); }
#connection.down { color: var(--bad-fg); background: var(--bad-bg); }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); flex: 1 1 14rem; }
input { font: inherit; padding: .4rem .5rem; border: 1px solid #767676; border-radius: 6px; color: var(--fg); }
button { font: inherit; padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.note { color: var(--muted); font-size: .85rem; min-height: 1.2em; margin: .25rem 0; }
ol.history { margin: 0; padding-left: 1.4rem; }
ol.history li { margin: .2rem 0; }
a { color: var(--accent); }
.term[title] { text-decoration: underline dotted; text-underline-offset: .15em; cursor: help; }
.counts dt[title] { text-decoration: underline dotted; cursor: help; }
/* The account column shows only in an app with several accounts (a table marked with-accounts). */
table:not(.with-accounts) .account { display: none; }
#account-filter-label[hidden], #feed tr.change[hidden] { display: none; }
label.filter { max-width: 22rem; margin-bottom: .25rem; }
select { font: inherit; padding: .35rem .5rem; border: 1px solid #767676; border-radius: 6px; color: var(--fg); background: var(--card); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
#delivery-section { grid-column: 1 / -1; }
#delivery-body[hidden], #delivery-windows[hidden] { display: none; }
.toggle { display: inline-flex; gap: 0; margin-bottom: .25rem; }
.toggle button { background: var(--card); color: var(--accent); border-radius: 0; }
.toggle button:first-child { border-radius: 6px 0 0 6px; }
.toggle button:last-child { border-radius: 0 6px 6px 0; border-left: 0; }
.toggle button[aria-pressed="true"] { background: var(--accent); color: #fff; }
#delivery-section table { margin-bottom: .75rem; table-layout: fixed; min-width: 46rem; }
/* Both tables share their column widths, so that channels and countries line up. */
#delivery-section th:nth-child(1) { width: 15%; }
#delivery-section th:nth-child(2) { width: 23%; }
#delivery-section th:nth-child(n+3):nth-child(-n+5) { width: 9%; }
#delivery-section th:nth-child(6), #delivery-section th:nth-child(7) { width: 10%; }
#delivery-section th.key { overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
.legend svg { vertical-align: -1px; }
#delivery-section th.key { font-weight: 600; color: var(--fg); }
#delivery-section td.n-rate { white-space: nowrap; }
#delivery-section td.n-rate .pct { display: inline-block; min-width: 3.4em; }
#delivery-section td.n-rate .chart { vertical-align: middle; margin-left: .35rem; width: 6.5rem; }
svg.chart { display: inline-block; overflow: visible; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--fg); }
svg.chart.bars { display: block; width: 100%; max-width: 420px; height: auto; margin-bottom: .5rem; }
svg.chart .frame { fill: none; stroke: var(--line); }
.seg-delivered { fill: #1e7b34; }
.seg-failed, .bar-failed { fill: #c42b2b; }
.seg-pending { fill: #d9a300; }
svg.chart .grid { stroke: var(--line); }
.time-span { fill: #8fb0ea; }
.time-median { fill: var(--accent); }
`;

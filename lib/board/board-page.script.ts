/**
 * The board page's script, plain browser JavaScript with no dependency. Every value from the
 * API enters the DOM as text (`textContent`, `append` of strings, attribute values), never as
 * HTML. The API sits at `{page path}/api/`, found from the page's own URL, so the page works
 * under any path and global prefix without being templated.
 */
export const BOARD_PAGE_SCRIPT = `
'use strict';
(function () {
  var api = location.pathname.replace(/\\/+$/, '') + '/api/';
  var FEED_LIMIT = 200;
  var STATES = { delivered: 'delivered', failed: 'failed', 'in progress': 'in-progress' };
  // Words for support staff; the code each stands for stays in its tooltip.
  var REASONS = {
    ip_not_allowed: 'Sender address not allowed',
    signature_missing: 'Not signed',
    signature_invalid: 'Wrong signature (check the API password)',
    raw_body_missing: 'Signature cannot be checked (raw body is off)',
    unsupported_media_type: 'Not sent as JSON',
    payload_too_large: 'Report too large',
    invalid_body: 'Malformed report',
    store_unavailable: 'Storage was unavailable',
    shutting_down: 'The app was shutting down',
    handler_failed: 'A handler of the app failed',
    unknown_account: 'Unknown account',
    account_lookup_failed: 'Account lookup failed'
  };
  var OUTCOMES = { change: 'new status', stale: 'arrived late, older than the status shown' };
  var byId = function (id) { return document.getElementById(id); };

  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    (children || []).forEach(function (child) {
      node.append(child instanceof Node ? child : String(child === null || child === undefined ? '' : child));
    });
    return node;
  }
  /** A plain-language word with its technical code in the tooltip. */
  function term(text, code, className) {
    var span = el('span', 'term' + (className ? ' ' + className : ''), [text]);
    span.title = code;
    return span;
  }
  function dateOf(value) {
    var date = value ? new Date(value) : null;
    return date && !isNaN(date.getTime()) ? date : null;
  }
  function time(value) {
    var date = dateOf(value);
    if (!date) return value ? String(value) : '';
    // Today's reports by time alone, so the feed reads at a glance; older ones with their date.
    return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
  }
  function timeCell(value) {
    var td = el('td', 'time', [time(value)]);
    var date = dateOf(value);
    if (date) td.title = date.toLocaleString();
    return td;
  }
  function stateOf(status) {
    if (['UNDELIV', 'FAILED', 'REJECTD', 'EXPIRED', 'NACK', 'DELETED'].indexOf(status) >= 0) return 'failed';
    return status === 'DELIVRD' || status === 'SEEN' ? 'delivered' : 'in progress';
  }
  function badge(status, state) {
    state = state || stateOf(status);
    var span = el('span', 'badge ' + (STATES[state] || 'in-progress'), [String(status), ' ']);
    span.append(el('span', 'state', ['(' + state + ')']));
    return span;
  }
  /** An id as a link that opens the search for it (also in a new tab: the search is in the URL). */
  function idLink(id) {
    var link = el('a', 'search-link', [id]);
    link.href = '#q=' + encodeURIComponent(String(id));
    return link;
  }
  function cell(content, className) { return el('td', className, [content]); }
  function replaceRows(body, rows, columns, emptyText) {
    body.replaceChildren();
    if (rows.length === 0) {
      var empty = el('td', 'empty', [emptyText]);
      empty.colSpan = columns;
      body.append(el('tr', null, [empty]));
      return;
    }
    rows.forEach(function (row) { body.append(row); });
  }
  function getJson(path, init) {
    init = init || {};
    var headers = Object.assign({ accept: 'application/json' }, init.headers || {});
    return fetch(api + path, Object.assign({ cache: 'no-store' }, init, { headers: headers }))
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status + ' from ' + path.split('?')[0]);
        return response.json();
      });
  }

  /* Live feed: starts from the store's latest changes, then grows from the stream. Rows are
     kept newest first by receipt time and once per change, whichever source brought it. */
  var feed = byId('feed');
  var shown = new Map();
  function addChange(change) {
    var key = change.messageId + '\\u0000' + change.status;
    if (shown.has(key)) return;
    if (shown.size === 0) feed.replaceChildren();
    var row = el('tr', 'change', [
      timeCell(change.receivedAt),
      el('td', 'status', [badge(change.status, change.state)]),
      cell(change.to || '', 'to'),
      el('td', 'id', [idLink(change.messageId)]),
      cell(change.channel || '', 'channel wide'),
      cell(change.previousStatus || '(first report)', 'before wide'),
      cell(change.err ? change.err + ' ' + (change.error || '') : '', 'error'),
    ]);
    row.dataset.messageId = change.messageId;
    row.dataset.status = change.status;
    var at = Date.parse(change.receivedAt) || 0;
    row.dataset.at = String(at);
    var before = Array.prototype.find.call(feed.rows, function (other) { return Number(other.dataset.at) <= at; });
    feed.insertBefore(row, before || null);
    shown.set(key, row);
    while (feed.rows.length > FEED_LIMIT) {
      var last = feed.rows[feed.rows.length - 1];
      shown.forEach(function (value, k) { if (value === last) shown.delete(k); });
      last.remove();
    }
  }
  function loadRecent() {
    return getJson('recent?limit=' + FEED_LIMIT)
      .then(function (answer) { answer.changes.slice().reverse().forEach(addChange); })
      .catch(function () { /* the connection badge already says the board is offline */ });
  }

  /* Counts, refusals, pending */
  function countItem(label, code, value, id) {
    var dd = el('dd', null, [value]);
    if (id) dd.id = id;
    var dt = el('dt', null, [label]);
    if (code) dt.title = code;
    return el('div', null, [dt, dd]);
  }
  function renderStats(stats) {
    var refused = 0;
    Object.keys(stats.requests.refused).forEach(function (reason) { refused += stats.requests.refused[reason]; });
    byId('counts-outcome').replaceChildren(
      countItem('Status changes', 'change', stats.reports.change, 'count-change'),
      countItem('Repeated reports (ignored)', 'duplicate', stats.reports.duplicate, 'count-duplicate'),
      countItem('Arrived late (kept in history)', 'stale', stats.reports.stale, 'count-stale'),
      countItem('Sent again, handlers re-run', 'redelivery', stats.reports.redelivery, 'count-redelivery'),
      countItem('Accepted requests', 'accepted', stats.requests.accepted, 'count-accepted'),
      countItem('Refused requests', 'refused', refused, 'count-refused'),
      countItem('Handler errors', 'handlerFailures', stats.handlerFailures, 'count-handler-failures'),
      countItem('Waiting for handlers', 'pending', stats.pending, 'count-pending')
    );
    var statuses = Object.keys(stats.changesByStatus).sort();
    replaceRows(byId('counts-status'), statuses.map(function (status) {
      return el('tr', null, [el('td', null, [badge(status)]), cell(stats.changesByStatus[status])]);
    }), 2, 'No changes yet');
    replaceRows(byId('refusals'), stats.recentRefusals.map(function (refusal) {
      var reason = el('td', 'reason', [term(REASONS[refusal.reason] || refusal.reason, refusal.reason)]);
      reason.dataset.reason = refusal.reason;
      return el('tr', 'refusal', [timeCell(refusal.at), reason, cell(refusal.ip, 'id ip'), cell(refusal.httpStatus, 'http')]);
    }), 4, 'No refused requests');
    byId('since').textContent = 'since ' + time(stats.since);
  }
  function renderPending(pending) {
    byId('pending-count').textContent = String(pending.count);
    replaceRows(byId('pending'), pending.changes.map(function (change) {
      var row = el('tr', 'pending', [
        timeCell(change.receivedAt), el('td', 'status', [badge(change.status, change.state)]),
        cell(change.to || '', 'to'), el('td', 'id', [idLink(change.messageId)]),
      ]);
      row.dataset.messageId = change.messageId;
      return row;
    }), 4, 'Nothing is waiting');
  }
  var refreshing = null;
  var again = false;
  function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = Promise.all([getJson('stats'), getJson('pending')])
      .then(function (answers) { renderStats(answers[0]); renderPending(answers[1]); })
      .catch(function () { /* the connection badge already says the board is offline */ })
      .then(function () {
        refreshing = null;
        if (again) { again = false; refresh(); }
      });
    return refreshing;
  }
  // Counts and refusals have no stream of their own: they are polled, only while the page is seen.
  setInterval(function () { if (!document.hidden) refresh(); }, 2000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });

  byId('redispatch').addEventListener('click', function () {
    var button = byId('redispatch');
    var note = byId('redispatch-note');
    button.disabled = true;
    note.textContent = 'Running the handlers again…';
    // The header tells the board the request comes from this page, not from another site.
    getJson('pending/redispatch', { method: 'POST', headers: { 'x-messente-board': '1' } })
      .then(function (answer) { note.textContent = 'Dispatched ' + answer.dispatched + ' waiting change(s) again.'; })
      .catch(function (error) { note.textContent = 'Running the handlers again failed: ' + error.message; })
      .then(function () { button.disabled = false; return refresh(); });
  });

  /* Search: the query lives in the URL (#q=...), so an id link, the back button and a link
     opened in a new tab all run it. */
  var results = byId('results');
  function historyItem(entry) {
    var raw = entry.raw || {};
    var item = el('li', 'report', [
      el('span', 'time', [time(entry.receivedAt)]), ' ', badge(entry.status), ' ',
      term(OUTCOMES[entry.outcome] || entry.outcome, entry.outcome, 'outcome'),
    ]);
    item.dataset.outcome = entry.outcome;
    item.dataset.status = entry.status;
    if (raw.channel) item.append(' · ', el('span', 'channel', ['via ' + raw.channel]));
    if (raw.to) item.append(' · ', el('span', 'to', ['to ' + raw.to]));
    if (raw.err) item.append(' · ', el('span', 'error', ['error ' + raw.err + ' ' + (raw.error || '')]));
    return item;
  }
  function messageBlock(message) {
    var last = message.history[message.history.length - 1] || {};
    var heading = el('h3', null, ['Message ', idLink(message.messageId)]);
    var omnimessageId = (last.raw || {}).omnimessage_id;
    if (typeof omnimessageId === 'string' && omnimessageId) heading.append(' · sent together as ', idLink(omnimessageId));
    var block = el('div', 'message', [heading, el('ol', 'history', message.history.map(historyItem))]);
    block.dataset.messageId = message.messageId;
    return block;
  }
  var searching = 0;
  function search(q) {
    var ticket = ++searching;
    byId('search-id').value = q;
    results.replaceChildren(el('p', 'note', ['Searching…']));
    getJson('search?q=' + encodeURIComponent(q)).then(function (answer) {
      if (ticket !== searching) return;
      results.replaceChildren();
      if (answer.messages.length === 0) {
        results.append(el('p', 'empty', ['Nothing is known about ' + q + '.']));
        return;
      }
      answer.messages.forEach(function (message) { results.append(messageBlock(message)); });
    }).catch(function (error) {
      if (ticket === searching) results.replaceChildren(el('p', 'empty', ['Search failed: ' + error.message]));
    });
  }
  function queryInUrl() {
    if (location.hash.indexOf('#q=') !== 0) return '';
    try { return decodeURIComponent(location.hash.slice(3)); } catch (error) { return ''; }
  }
  function open(q) {
    var hash = '#q=' + encodeURIComponent(q);
    // The same hash again fires no hashchange: search directly.
    if (location.hash === hash) search(q);
    else location.hash = hash;
  }
  window.addEventListener('hashchange', function () {
    var q = queryInUrl();
    if (q) { search(q); byId('search-section').scrollIntoView({ block: 'nearest' }); }
  });
  byId('search').addEventListener('submit', function (event) {
    event.preventDefault();
    var q = byId('search-id').value.trim();
    if (q) open(q);
  });
  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('a.search-link') : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    open(link.textContent);
  });

  /* Live stream: EventSource reconnects by itself after a dropped connection; when it gives
     up (an answer that is not a stream, e.g. while the app restarts) a new one is opened.
     Each (re)connection fills in what arrived while the page was not listening. */
  var connection = byId('connection');
  var source = null;
  function setLive(live) {
    connection.textContent = live ? 'Live' : 'Reconnecting…';
    connection.className = live ? 'live' : 'down';
  }
  function connect() {
    source = new EventSource(api + 'changes');
    source.addEventListener('open', function () { setLive(true); refresh(); loadRecent(); });
    source.addEventListener('change', function (event) {
      addChange(JSON.parse(event.data));
      refresh();
    });
    source.addEventListener('error', function () {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, 2000);
      }
    });
  }
  setLive(false);
  connect();
  refresh();
  if (queryInUrl()) search(queryInUrl());
})();
`;

/**
 * The board page's script, plain browser JavaScript with no dependency. Every value from the
 * API enters the DOM as text (`textContent`, `append` of strings), never as HTML.
 * The API sits at `{page path}/api/`, found from the page's own URL, so the page works under
 * any path and global prefix without being templated.
 */
export const BOARD_PAGE_SCRIPT = `
'use strict';
(function () {
  var api = location.pathname.replace(/\\/+$/, '') + '/api/';
  var FEED_LIMIT = 200;
  var STATES = { delivered: 'delivered', failed: 'failed', 'in progress': 'in-progress' };
  var byId = function (id) { return document.getElementById(id); };

  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    (children || []).forEach(function (child) {
      node.append(child instanceof Node ? child : String(child === null || child === undefined ? '' : child));
    });
    return node;
  }
  function time(value) {
    if (!value) return '';
    var date = new Date(value);
    if (isNaN(date.getTime())) return String(value);
    // Today's reports by time alone: the feed is read at a glance.
    return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
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
    return fetch(api + path, Object.assign({ cache: 'no-store', headers: { accept: 'application/json' } }, init || {}))
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status + ' from ' + path);
        return response.json();
      });
  }

  /* Live feed */
  var feed = byId('feed');
  var feedCount = 0;
  function addChange(change) {
    if (feedCount === 0) feed.replaceChildren();
    var row = el('tr', 'change', [
      cell(time(change.receivedAt), 'time'),
      el('td', 'status', [badge(change.status, change.state)]),
      cell(change.to || '', 'to'),
      cell(change.messageId, 'id'),
      cell(change.channel || '', 'channel wide'),
      cell(change.previousStatus || '(new)', 'before wide'),
      cell(change.err ? change.err + ' ' + (change.error || '') : '', 'error'),
    ]);
    row.dataset.messageId = change.messageId;
    row.dataset.status = change.status;
    feed.prepend(row);
    feedCount++;
    while (feed.rows.length > FEED_LIMIT) feed.deleteRow(-1);
  }

  /* Counts, refusals, pending */
  function countItem(label, value, id) {
    var dd = el('dd', null, [value]);
    if (id) dd.id = id;
    return el('div', null, [el('dt', null, [label]), dd]);
  }
  function renderStats(stats) {
    var refused = 0;
    Object.keys(stats.requests.refused).forEach(function (reason) { refused += stats.requests.refused[reason]; });
    byId('counts-outcome').replaceChildren(
      countItem('changes', stats.reports.change, 'count-change'),
      countItem('duplicates', stats.reports.duplicate, 'count-duplicate'),
      countItem('stale', stats.reports.stale, 'count-stale'),
      countItem('redeliveries', stats.reports.redelivery, 'count-redelivery'),
      countItem('accepted requests', stats.requests.accepted, 'count-accepted'),
      countItem('refused requests', refused, 'count-refused'),
      countItem('handler failures', stats.handlerFailures, 'count-handler-failures'),
      countItem('pending', stats.pending, 'count-pending')
    );
    var statuses = Object.keys(stats.changesByStatus).sort();
    replaceRows(byId('counts-status'), statuses.map(function (status) {
      return el('tr', null, [el('td', null, [badge(status)]), cell(stats.changesByStatus[status])]);
    }), 2, 'No changes yet');
    replaceRows(byId('refusals'), stats.recentRefusals.map(function (refusal) {
      return el('tr', 'refusal', [
        cell(time(refusal.at), 'time'), cell(refusal.reason, 'reason'), cell(refusal.ip, 'id ip'), cell(refusal.httpStatus, 'http'),
      ]);
    }), 4, 'No refused requests');
    byId('since').textContent = 'since ' + time(stats.since);
  }
  function renderPending(pending) {
    byId('pending-count').textContent = String(pending.count);
    replaceRows(byId('pending'), pending.changes.map(function (change) {
      var row = el('tr', 'pending', [
        cell(time(change.receivedAt), 'time'), el('td', 'status', [badge(change.status, change.state)]),
        cell(change.to || '', 'to'), cell(change.messageId, 'id'),
      ]);
      row.dataset.messageId = change.messageId;
      return row;
    }), 4, 'Nothing pending');
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
    note.textContent = 'Dispatching…';
    getJson('pending/redispatch', { method: 'POST' })
      .then(function (answer) { note.textContent = 'Dispatched ' + answer.dispatched + ' pending change(s) again.'; })
      .catch(function (error) { note.textContent = 'Redispatch failed: ' + error.message; })
      .then(function () { button.disabled = false; return refresh(); });
  });

  /* Search */
  byId('search').addEventListener('submit', function (event) {
    event.preventDefault();
    var id = byId('search-id').value.trim();
    var results = byId('results');
    if (!id) return;
    results.replaceChildren(el('p', 'note', ['Searching…']));
    getJson('messages/' + encodeURIComponent(id)).then(function (answer) {
      results.replaceChildren();
      if (answer.messages.length === 0) {
        results.append(el('p', 'empty', ['Nothing is known about ' + id + '.']));
        return;
      }
      answer.messages.forEach(function (message) {
        var list = el('ol', 'history');
        message.history.forEach(function (entry) {
          var raw = entry.raw || {};
          var item = el('li', 'report', [time(entry.receivedAt), ' ', badge(entry.status), ' ', entry.outcome]);
          item.dataset.outcome = entry.outcome;
          item.dataset.status = entry.status;
          if (raw.to) item.append(' · to ' + raw.to);
          if (raw.err) item.append(' · err ' + raw.err + ' ' + (raw.error || ''));
          list.append(item);
        });
        var block = el('div', 'message', [el('h3', null, ['Message ' + message.messageId]), list]);
        block.dataset.messageId = message.messageId;
        results.append(block);
      });
    }).catch(function (error) {
      results.replaceChildren(el('p', 'empty', ['Search failed: ' + error.message]));
    });
  });

  /* Live stream: EventSource reconnects by itself after a dropped connection; when it gives
     up (an answer that is not a stream, e.g. while the app restarts) a new one is opened. */
  var connection = byId('connection');
  var source = null;
  function setLive(live) {
    connection.textContent = live ? 'Live' : 'Reconnecting…';
    connection.className = live ? 'live' : 'down';
  }
  function connect() {
    source = new EventSource(api + 'changes');
    source.addEventListener('open', function () { setLive(true); refresh(); });
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
})();
`;

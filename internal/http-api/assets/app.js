// The operator console: a page over the HTTP API's JSON routes. Every
// element is built with createElement and every value set as textContent
// or an attribute: nothing is parsed as HTML, so an id holding markup is
// shown as text. Pages are routed by the URL's hash.
'use strict';

(function () {
  const view = () => document.getElementById('view');

  // An element: attributes (`class`, `on*` listeners, others as attributes)
  // and children (strings become text).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return el;
  }

  const enc = encodeURIComponent;
  const aggregateHref = (type, id) => '#/aggregates/' + enc(type) + '/' + enc(id);
  const traceHref = (id) => '#/traces/' + enc(id);

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ headers: { Accept: 'application/json' } }, options || {}));
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!response.ok) throw new ApiError(response.status, (body && (body.detail || body.title)) || response.statusText);
    return body;
  }

  function show(...nodes) {
    const main = view();
    main.replaceChildren(...nodes);
  }

  function failed(error) {
    return h('p', { class: 'error', role: 'alert' }, String(error.status ? error.status + ': ' : ''), error.message);
  }

  // A JSON value with every leaf hidden behind •••, until `reveal`.
  function masked(value, reveal) {
    const hide = (v) => {
      if (Array.isArray(v)) return v.map(hide);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hide(x)]));
      return '•••';
    };
    return JSON.stringify(reveal ? value : hide(value), null, 2);
  }

  // A panel whose values show only after "show values".
  function valuesPanel(title, value) {
    const pre = h('pre', { class: 'values', 'data-masked': 'true' }, masked(value, false));
    let shown = false;
    const button = h('button', {
      type: 'button',
      onclick: () => {
        shown = !shown;
        pre.textContent = masked(value, shown);
        pre.setAttribute('data-masked', String(!shown));
        button.textContent = shown ? 'hide values' : 'show values';
      },
    }, 'show values');
    return h('section', { class: 'panel' }, h('div', { class: 'row' }, h('h2', {}, title), button), pre);
  }

  function table(headers, rows) {
    return h('table', {},
      h('thead', {}, h('tr', {}, headers.map((name) => h('th', {}, name)))),
      h('tbody', {}, rows));
  }

  // ---- the types and their aggregates ----------------------------------

  async function home() {
    let types;
    try { types = (await api('/types')).types; } catch (e) { show(failed(e)); return; }
    fillTypes(types);
    const sections = types.map((type) => {
      const body = h('tbody', {});
      const more = h('button', { type: 'button', class: 'more' }, 'more');
      const section = h('section', { class: 'panel', 'data-type': type },
        h('h2', {}, type),
        h('table', {}, h('thead', {}, h('tr', {}, ['id', 'state', 'version'].map((n) => h('th', {}, n)))), body),
        more);
      let after = null;
      async function page() {
        more.disabled = true;
        const query = '?limit=20' + (after ? '&after=' + enc(after) : '');
        try {
          const listed = await api('/aggregates/' + enc(type) + query);
          for (const item of listed.items) {
            body.append(h('tr', {},
              h('td', {}, h('a', { href: aggregateHref(type, item.aggregateId) }, item.aggregateId)),
              h('td', {}, h('span', { class: 'state' }, item.state)),
              h('td', {}, item.version)));
          }
          if (!listed.items.length && !after) body.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'none yet')));
          after = listed.next;
          more.hidden = !after;
        } catch (e) { section.append(failed(e)); }
        more.disabled = false;
      }
      more.addEventListener('click', page);
      page();
      return section;
    });
    show(h('h1', {}, 'Aggregates'), ...sections);
  }

  let knownTypes = null;
  function fillTypes(types) {
    if (knownTypes) return;
    knownTypes = types;
    const select = document.getElementById('search-type');
    select.replaceChildren(...types.map((t) => h('option', { value: t }, t)));
  }

  // ---- one aggregate ---------------------------------------------------

  // An alarm's status: stale when the state no longer takes its command,
  // overdue when its time has passed, else pending.
  function alarmStatus(alarm, state, config) {
    const takes = config && config.transitions.some((t) => t.command === alarm.command && t.from.includes(state));
    if (config && !takes) return 'stale';
    if (Date.parse(alarm.due) <= Date.now()) return 'overdue';
    return 'pending';
  }

  function commandOf(config, eventType) {
    const transition = config && config.transitions.find((t) => t.event === eventType);
    return transition ? transition.command : '';
  }

  async function aggregate(type, id) {
    show(h('p', {}, 'Loading…'));
    let head, page, config;
    try {
      [head, page, config] = await Promise.all([
        api('/aggregates/' + enc(type) + '/' + enc(id)),
        api('/aggregates/' + enc(type) + '/' + enc(id) + '/events?limit=100'),
        api('/types/' + enc(type)).catch(() => null),
      ]);
    } catch (e) { show(h('h1', {}, type + ' / ' + id), failed(e)); return; }
    const alarms = Object.values(head.alarms || {});
    const alarmRows = alarms.map((alarm) => {
      const status = alarmStatus(alarm, head.state, config);
      return h('tr', { 'data-alarm': alarm.name },
        h('td', {}, alarm.name), h('td', {}, alarm.due), h('td', {}, alarm.command),
        h('td', {}, h('span', { class: 'tag ' + status }, status)));
    });
    const timeline = page.events.map((event) => {
      const meta = event.metadata || {};
      return h('tr', { 'data-version': event.version },
        h('td', {}, event.version),
        h('td', {}, event.recordedAt),
        h('td', {}, commandOf(config, event.eventType)),
        h('td', {}, event.eventType),
        h('td', {}, h('span', { class: 'state' }, event.state)),
        h('td', {}, event.commandId),
        h('td', {}, meta.causationId || h('span', { class: 'muted' }, '—')),
        h('td', {}, meta.correlationId ? h('a', { href: traceHref(meta.correlationId) }, meta.correlationId) : h('span', { class: 'muted' }, '—')));
    });
    const diagram = h('img', {
      src: '/types/' + enc(type) + '/diagram.svg?state=' + enc(head.state),
      alt: 'The states of ' + type + ', ' + head.state + ' marked',
    });
    show(
      h('h1', {}, type + ' / ' + id),
      h('div', { class: 'row' }, 'state ', h('span', { class: 'state', id: 'state' }, head.state), ' version ', String(head.version)),
      h('section', { class: 'panel diagram' }, h('h2', {}, 'The config'), diagram),
      valuesPanel('Data', head.data),
      h('section', { class: 'panel', id: 'alarms' }, h('h2', {}, 'Alarms'),
        alarms.length ? table(['name', 'due', 'command', 'status'], alarmRows) : h('p', { class: 'muted' }, 'none set')),
      h('section', { class: 'panel', id: 'timeline' }, h('h2', {}, 'History'),
        table(['v', 'recorded', 'command', 'event', 'state after', 'command id', 'cause', 'correlation'], timeline),
        page.next ? h('p', { class: 'muted' }, 'older events beyond the first 100: cmdctl events ' + type + ' ' + id) : null),
      valuesPanel('Payloads', page.events.map((e) => ({ version: e.version, payload: e.payload }))));
  }

  // ---- one correlation -------------------------------------------------

  async function trace(id) {
    show(h('p', {}, 'Loading…'));
    let traced;
    try { traced = await api('/traces/' + enc(id)); } catch (e) { show(h('h1', {}, 'Trace ' + id), failed(e)); return; }
    const events = traced.events;
    const depth = new Map();
    for (const event of events) {
      const cause = event.causationId;
      depth.set(event.eventId, cause && depth.has(cause) ? Math.min(depth.get(cause) + 1, 4) : 0);
    }
    // Each aggregate of the trace once, for its alarms.
    const keys = [...new Map(events.map((e) => [e.aggregateType + '\u0000' + e.aggregateId, e])).values()];
    const configs = new Map();
    const heads = await Promise.all(keys.map(async (e) => {
      try {
        if (!configs.has(e.aggregateType)) configs.set(e.aggregateType, await api('/types/' + enc(e.aggregateType)).catch(() => null));
        return { type: e.aggregateType, id: e.aggregateId, head: await api('/aggregates/' + enc(e.aggregateType) + '/' + enc(e.aggregateId)) };
      } catch (_) { return null; }
    }));
    const rows = events.map((event, i) => {
      const failure = firedByAlarm(event);
      return h('tr', { 'data-step': i, class: failure ? 'failure' : null },
        h('td', {}, String(i + 1)),
        h('td', {}, event.recordedAt),
        h('td', { class: 'depth' + depth.get(event.eventId) },
          h('a', { href: aggregateHref(event.aggregateType, event.aggregateId) }, event.aggregateType + ' / ' + event.aggregateId)),
        h('td', {}, event.eventType, failure ? ' ' : null, failure ? h('span', { class: 'tag failure' }, 'alarm fired') : null),
        h('td', {}, h('span', { class: 'state' }, event.state)),
        h('td', {}, event.commandId),
        h('td', {}, event.causationId || h('span', { class: 'muted' }, '—')));
    });
    const alarmRows = [];
    for (const found of heads) {
      if (!found) continue;
      for (const alarm of Object.values(found.head.alarms || {})) {
        const status = alarmStatus(alarm, found.head.state, configs.get(found.type));
        alarmRows.push(h('tr', { 'data-alarm': alarm.name },
          h('td', {}, h('a', { href: aggregateHref(found.type, found.id) }, found.type + ' / ' + found.id)),
          h('td', {}, alarm.name), h('td', {}, alarm.due), h('td', {}, alarm.command),
          h('td', {}, h('span', { class: 'tag ' + status }, status))));
      }
    }
    show(
      h('h1', {}, 'Trace ' + traced.correlationId),
      h('p', { class: 'muted' }, events.length + ' events across ' + keys.length + ' aggregates, each after its cause'),
      h('section', { class: 'panel', id: 'steps' },
        table(['#', 'recorded', 'aggregate', 'event', 'state after', 'command id', 'cause'], rows)),
      h('section', { class: 'panel', id: 'trace-alarms' }, h('h2', {}, 'Alarms still set'),
        alarmRows.length ? table(['aggregate', 'name', 'due', 'command', 'status'], alarmRows) : h('p', { class: 'muted' }, 'none')));
  }

  // A step that an alarm's command made: a timeout or an expiry, where the
  // saga did not go on in time. Alarm commands' ids end `/alarm/{name}`
  // (hashed past 200 bytes, then not recognised).
  function firedByAlarm(event) {
    return (event.commandId || '').includes('/alarm/');
  }

  // ---- the dead-letter queue -------------------------------------------

  async function dlq() {
    show(h('p', {}, 'Loading…'));
    let listed;
    try { listed = await api('/dlq'); } catch (e) {
      if (e.status !== 404) { show(h('h1', {}, 'Dead letters'), failed(e)); return; }
      listed = { configured: false };
    }
    if (!listed.configured) {
      show(h('h1', {}, 'Dead letters'), h('p', { class: 'muted', id: 'no-dlq' }, 'No dead-letter queue is configured here (cmdctl serve --queue-url URL, or the Lambda\'s DLQ_URL).'));
      return;
    }
    const rows = listed.messages.map((m) => h('tr', { 'data-message': m.messageId },
      h('td', {}, m.messageId),
      h('td', {}, m.aggregate ? h('a', { href: aggregateHref(m.aggregate.aggregateType, m.aggregate.aggregateId) }, m.aggregate.aggregateType + ' / ' + m.aggregate.aggregateId) : '—'),
      h('td', {}, m.command || '—'),
      h('td', {}, m.receiveCount === null || m.receiveCount === undefined ? '—' : String(m.receiveCount)),
      h('td', {}, m.reason || '—')));
    const token = h('input', { type: 'password', id: 'redrive-token', placeholder: 'the token cmdctl serve printed', autocomplete: 'off' });
    const outcome = h('p', { id: 'redrive-outcome', role: 'status' });
    const confirmBox = h('dialog', { id: 'redrive-confirm' },
      h('p', {}, 'Move all ' + listed.messages.length + ' messages back to the command queue?'),
      h('button', { type: 'button', id: 'redrive-yes', class: 'danger', onclick: () => { confirmBox.close(); redrive(); } }, 'Redrive'),
      ' ',
      h('button', { type: 'button', onclick: () => confirmBox.close() }, 'Cancel'));
    async function redrive() {
      outcome.textContent = 'redriving…';
      try {
        const report = await api('/dlq/redrive', { method: 'POST', headers: { Accept: 'application/json', Authorization: 'Bearer ' + token.value } });
        outcome.textContent = report.moved + ' moved, ' + report.notMoved + ' not moved';
      } catch (e) { outcome.textContent = ''; outcome.append(failed(e)); }
    }
    show(
      h('h1', {}, 'Dead letters'),
      h('p', { class: 'muted' }, listed.messages.length + ' messages in ' + listed.queue),
      h('section', { class: 'panel' }, listed.messages.length
        ? table(['message', 'aggregate', 'command', 'receives', 'reason'], rows)
        : h('p', { class: 'muted' }, 'empty')),
      h('section', { class: 'panel' }, h('div', { class: 'row' }, token,
        h('button', { type: 'button', id: 'redrive', class: 'danger', disabled: listed.messages.length ? null : 'disabled', onclick: () => confirmBox.showModal() }, 'Redrive all…')),
      outcome, confirmBox));
  }

  // ---- routing ---------------------------------------------------------

  function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
      try { return decodeURIComponent(p); } catch (_) { return p; }
    });
    if (parts[0] === 'aggregates' && parts.length === 3) return aggregate(parts[1], parts[2]);
    if (parts[0] === 'traces' && parts.length === 2) return trace(parts[1]);
    if (parts[0] === 'dlq') return dlq();
    return home();
  }

  document.addEventListener('DOMContentLoaded', () => {
    api('/types').then((t) => fillTypes(t.types)).catch(() => {});
    document.getElementById('search').addEventListener('submit', (event) => {
      event.preventDefault();
      const type = document.getElementById('search-type').value;
      const id = document.getElementById('search-id').value.trim();
      if (type && id) location.hash = aggregateHref(type, id);
    });
    document.getElementById('trace').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = document.getElementById('trace-id').value.trim();
      if (id) location.hash = traceHref(id);
    });
    window.addEventListener('hashchange', route);
    route();
  });
})();

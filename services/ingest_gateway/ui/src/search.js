// Search: a LogQL log query (docs/query.md) over a time range through
// GET /v1/query, and a histogram of the matches over the same range through
// GET /v1/stats (drag across it to zoom in). A row opens as pretty JSON.

import { query, getJson } from './api.js';
import { Chart } from './charts.js';
import { h, levelClass, recordCells, num } from './util.js';

const RANGES = [
  ['5m', 'Last 5 minutes', 300],
  ['15m', 'Last 15 minutes', 900],
  ['1h', 'Last hour', 3600],
  ['6h', 'Last 6 hours', 21600],
  ['24h', 'Last 24 hours', 86400],
  ['7d', 'Last 7 days', 604800],
  ['custom', 'Custom…', 0],
];

function toLocalInput(sec) {
  const d = new Date(sec * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/// The metric form of a log query: count its matches per step.
export function histogramQuery(q, step) {
  return `sum(count_over_time(${q.trim() || "{}"}[${step}s]))`;
}

export function search(main, ctx) {
  const q = h('input', { id: 'q', name: 'query', type: 'search', value: ctx.state.query || '{}', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'q-help' });
  const range = h('select', { id: 'range', name: 'range' }, RANGES.map(([v, label]) => h('option', { value: v, text: label })));
  range.value = ctx.state.range || '1h';
  const from = h('input', { id: 'from', type: 'datetime-local', step: '1' });
  const to = h('input', { id: 'to', type: 'datetime-local', step: '1' });
  const limit = h('input', { id: 'limit', type: 'number', min: '1', max: '5000', value: '100' });
  const custom = h('span', { class: 'custom' }, h('label', { for: 'from', text: 'From' }), from, h('label', { for: 'to', text: 'To' }), to);
  const status = h('p', { id: 'search-status', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const rows = h('tbody', { id: 'results' });
  const histo = h('div', { class: 'histo' });
  const form = h('form', { class: 'query', role: 'search' },
    h('label', { for: 'q', text: 'Query' }), q,
    h('label', { for: 'range', text: 'Time range' }), range, custom,
    h('label', { for: 'limit', text: 'Limit' }), limit,
    h('button', { type: 'submit', text: 'Run' }),
  );
  main.append(
    h('h1', { text: 'Search' }),
    form,
    h('p', { id: 'q-help', class: 'help' }, 'LogQL: ', h('code', { text: '{level="ERROR"} |= "timeout"' }), ', ', h('code', { text: '{} | status >= 500' }), '. Drag across the histogram to zoom in.'),
    error,
    histo,
    status,
    h('table', { class: 'results' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Time' }), h('th', { scope: 'col', text: 'Level' }), h('th', { scope: 'col', text: 'Message' }), h('th', { scope: 'col', text: 'Fields' }))),
      rows),
  );
  const chart = new Chart(histo, 'Matches over time', {
    height: 120,
    bars: true,
    onSelect: (a, b) => {
      range.value = 'custom';
      from.value = toLocalInput(Math.floor(a));
      to.value = toLocalInput(Math.ceil(b));
      showCustom();
      run();
    },
  });
  function showCustom() {
    custom.hidden = range.value !== 'custom';
  }
  range.addEventListener('change', () => {
    if (range.value === 'custom' && !from.value) {
      const now = Date.now() / 1000;
      from.value = toLocalInput(now - 3600);
      to.value = toLocalInput(now);
    }
    showCustom();
  });
  showCustom();

  function window() {
    if (range.value === 'custom') {
      const a = Date.parse(from.value) / 1000;
      const b = Date.parse(to.value) / 1000;
      if (!Number.isFinite(a) || !Number.isFinite(b) || a >= b) throw new Error('choose a start before the end');
      return [a, b];
    }
    const span = RANGES.find(([v]) => v === range.value)[2];
    const now = Math.ceil(Date.now() / 1000);
    return [now - span, now];
  }

  let controller = null;
  async function run() {
    if (controller) controller.abort();
    controller = new AbortController();
    error.textContent = '';
    ctx.state.query = q.value;
    ctx.state.range = range.value;
    let start, end;
    try {
      [start, end] = window();
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    const step = Math.max(1, Math.ceil((end - start) / 120));
    // A point at t counts (t - step, t] and points stop at the end: round the
    // end up to a whole step so the newest lines have their bucket.
    const buckets = Math.ceil((end - start) / step);
    const statsEnd = start + buckets * step;
    status.textContent = 'Searching…';
    const t0 = performance.now();
    const logs = query({ query: q.value, start, end, limit: limit.value, direction: 'backward' }, controller.signal);
    const stats = getJson('/v1/stats', { query: histogramQuery(q.value, step), start, end: statsEnd, step: `${step}s` });
    try {
      const { rows: found, stats: st } = await logs;
      render(found);
      status.textContent = `${num(found.length)} lines${st && st.truncated ? ' (more match: narrow the range or raise the limit)' : ''} in ${num(performance.now() - t0)} ms${st ? `, ${num(st.lines_scanned)} lines scanned` : ''}`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      status.textContent = '';
      error.textContent = e.message;
      ctx.onAuthError(e);
      rows.replaceChildren();
    }
    try {
      const s = await stats;
      // Each bar starts where its bucket starts.
      const xs = [];
      for (let i = 0; i < buckets; i++) xs.push(start + i * step);
      const points = new Map(((s.series[0] || {}).points || []).map(([t, v]) => [Math.round(t) - step, v]));
      const counts = xs.map((t) => points.get(t) ?? 0);
      chart.update(xs, { matches: counts });
      histo.dataset.total = String(counts.reduce((a, b) => a + b, 0));
    } catch (e) {
      if (!error.textContent) error.textContent = `Histogram: ${e.message}`;
    }
  }

  function render(found) {
    rows.replaceChildren(
      ...found.map(({ rec }) => {
        const c = recordCells(rec);
        const tr = h('tr', { tabindex: '0', 'aria-expanded': 'false', class: 'row' },
          h('td', { class: 'ts', text: c.ts }),
          h('td', {}, h('span', { class: levelClass(c.level), text: c.level })),
          h('td', { class: 'msg', text: c.msg }),
          h('td', { class: 'extra', text: c.extra }));
        const toggle = () => {
          const open = tr.getAttribute('aria-expanded') === 'true';
          if (open) tr.nextSibling.remove();
          else tr.after(h('tr', { class: 'detail' }, h('td', { colspan: '4' }, h('pre', { class: 'json', text: JSON.stringify(rec, null, 2) }))));
          tr.setAttribute('aria-expanded', String(!open));
        };
        tr.addEventListener('click', toggle);
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            toggle();
          }
        });
        return tr;
      }),
    );
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  run();
  return () => controller && controller.abort();
}

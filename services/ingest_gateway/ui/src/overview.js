// Overview: GET /api/v1/status every second — counters, live charts of the
// per-second ring (accepted/rejected, by level, by emitter, by tenant, sync
// latency) and of what this page samples itself (in-flight, disk free).

import { getJson } from './api.js';
import { Chart, LEVEL_COLOURS } from './charts.js';
import { h, bytes, num, duration } from './util.js';

const SAMPLES = 900;

export function overview(main, ctx) {
  const cards = h('section', { class: 'cards', 'aria-label': 'Counters' });
  const stat = (id, label) => {
    const value = h('span', { class: 'value', id, 'data-testid': id, text: '–' });
    cards.append(h('div', { class: 'card' }, h('span', { class: 'label', text: label }), value));
    return value;
  };
  const c = {
    accepted: stat('ov-accepted', 'Accepted records'),
    rate: stat('ov-rate', 'Accepted/s (1 min)'),
    rejected: stat('ov-rejected', 'Rejected requests'),
    inflight: stat('ov-inflight', 'In flight'),
    sink: stat('ov-sink', 'Sink'),
    disk: stat('ov-disk', 'Disk free'),
    days: stat('ov-days', 'Days left at this rate'),
    uptime: stat('ov-uptime', 'Uptime'),
  };
  const error = h('p', { class: 'error', role: 'alert' });
  const charts = h('section', { class: 'charts', 'aria-label': 'Charts' });
  const ch = {
    flow: new Chart(charts, 'Accepted and rejected per second'),
    levels: new Chart(charts, 'Accepted by level per second'),
    emitters: new Chart(charts, 'Accepted by emitter per second'),
    tenants: new Chart(charts, 'Accepted by tenant per second'),
    inflight: new Chart(charts, 'In-flight requests', { window: 300 }),
    sync: new Chart(charts, 'Sync latency (ms)', { unit: ' ms' }),
    disk: new Chart(charts, 'Disk free (GiB)', { window: 300 }),
  };
  const today = h('tbody');
  const hk = h('p', { id: 'ov-housekeeping' });
  const rejected = h('ul', { class: 'plain' });
  const config = h('pre', { class: 'json' });
  const listeners = h('ul', { class: 'plain' });
  const version = h('span');
  main.append(
    h('h1', {}, 'Overview ', version),
    error,
    cards,
    charts,
    h('section', { class: 'panels' },
      h('div', { class: 'panel' }, h('h2', { text: "Today's files" }),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Tenant' }), h('th', { scope: 'col', text: 'File' }), h('th', { scope: 'col', class: 'num', text: 'Size' }), h('th', { scope: 'col', class: 'num', text: 'Lines' }))), today)),
      h('div', { class: 'panel' }, h('h2', { text: 'Rejected (15 min) by reason' }), rejected),
      h('div', { class: 'panel' }, h('h2', { text: 'Last housekeeping run' }), hk),
      h('div', { class: 'panel' }, h('h2', { text: 'Listeners' }), listeners),
      h('details', { class: 'panel' }, h('summary', { text: 'Configuration (no secrets)' }), config),
    ),
  );
  const local = { xs: [], inflight: [], disk: [] };
  let timer = null;
  let stopped = false;

  async function poll() {
    let s;
    try {
      s = await getJson('/api/v1/status', { seconds: 300 });
      error.textContent = '';
    } catch (e) {
      error.textContent = `Status unavailable: ${e.message}`;
      if (ctx.onAuthError(e)) return;
      schedule();
      return;
    }
    if (stopped) return;
    render(s);
    schedule();
  }
  function schedule() {
    if (!stopped) timer = setTimeout(poll, 1000);
  }

  function render(s) {
    const ing = s.ingest;
    version.textContent = `— LogOps ${s.version}`;
    c.accepted.textContent = num(ing.totals.accepted);
    c.rate.textContent = num(ing.rates.accepted_per_s_1m, 1);
    c.rejected.textContent = num(ing.totals.rejected);
    c.inflight.textContent = num(s.inflight);
    c.sink.textContent = s.sink.state + (s.sink.reason ? ` (${s.sink.reason})` : '');
    c.sink.className = `value ${s.sink.state === 'ok' ? 'ok' : 'bad'}`;
    c.disk.textContent = s.disk ? bytes(s.disk.free_bytes) : '–';
    c.days.textContent = s.disk && s.disk.days_left !== null ? num(s.disk.days_left, 1) : '∞ (no writes)';
    c.uptime.textContent = duration(s.uptime_s);
    const n = ing.series.accepted.length;
    const xs = Array.from({ length: n }, (_, i) => ing.now - n + i);
    ch.flow.update(xs, { accepted: ing.series.accepted, rejected: ing.series.rejected }, { accepted: '#2e7d32', rejected: '#c62828' });
    ch.levels.update(xs, ing.series.levels, LEVEL_COLOURS);
    ch.emitters.update(xs, ing.series.emitters);
    ch.tenants.update(xs, ing.series.tenants);
    ch.sync.update(xs, { max: ing.series.sync_ms_max, avg: ing.series.sync_ms_avg });
    local.xs.push(s.now);
    local.inflight.push(s.inflight);
    local.disk.push(s.disk ? s.disk.free_bytes / 2 ** 30 : null);
    if (local.xs.length > SAMPLES) for (const k of Object.keys(local)) local[k].shift();
    ch.inflight.update(local.xs, { 'in flight': local.inflight });
    ch.disk.update(local.xs, { 'free GiB': local.disk });
    today.replaceChildren(
      ...s.today.map((t) =>
        h('tr', {}, h('td', { text: t.tenant }), h('td', { text: t.file }), h('td', { class: 'num', text: bytes(t.bytes) }), h('td', { class: 'num', 'data-testid': `today-lines-${t.tenant}`, text: num(t.lines) })),
      ),
    );
    const reasons = Object.entries(ing.window.rejected_by_reason);
    rejected.replaceChildren(...(reasons.length ? reasons.map(([r, v]) => h('li', {}, h('code', { text: r }), ` ${num(v)}`)) : [h('li', { text: 'none' })]));
    if (s.housekeeping) {
      const r = s.housekeeping;
      hk.replaceChildren(
        `${new Date(r.at * 1000).toISOString()}: ${r.deleted} deleted, ${r.archived} archived, ${r.failed} failed`,
        ...r.actions.slice(0, 5).map((a) => h('span', { class: 'action', text: a })),
      );
    } else hk.textContent = s.config.housekeep_autorun ? 'not run yet' : 'not run by the gateway (LOGOPS_HOUSEKEEP_AUTORUN=false)';
    listeners.replaceChildren(...s.listeners.map((l) => h('li', {}, `${l.kind} `, h('code', { text: l.addr }))));
    config.textContent = JSON.stringify(s.config, null, 2);
  }

  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

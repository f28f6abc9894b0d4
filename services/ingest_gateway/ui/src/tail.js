// Live tail: GET /v1/tail (Server-Sent Events read through fetch streaming,
// so the read key goes in a header). Start/stop, pause (lines keep arriving
// and are counted as "N lines behind"), a client-side filter, auto-scroll.

import { tail } from './api.js';
import { h, levelClass, recordCells, num } from './util.js';

const MAX_LINES = 2000;

export function liveTail(main, ctx) {
  const q = h('input', { id: 'tail-q', type: 'search', value: ctx.state.tailQuery || '{}', spellcheck: 'false', autocomplete: 'off' });
  const start = h('button', { type: 'button', id: 'tail-start', text: 'Start' });
  const pause = h('button', { type: 'button', id: 'tail-pause', text: 'Pause', disabled: true, 'aria-pressed': 'false' });
  const clear = h('button', { type: 'button', id: 'tail-clear', text: 'Clear' });
  const filter = h('input', { id: 'tail-filter', type: 'search', placeholder: 'text shown lines must contain' });
  const auto = h('input', { id: 'tail-auto', type: 'checkbox', checked: true });
  const state = h('p', { id: 'tail-state', role: 'status', text: 'Stopped.' });
  const behind = h('p', { id: 'tail-behind', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert' });
  const list = h('ol', { id: 'tail-lines', class: 'lines', 'aria-label': 'Tailed lines', tabindex: '0' });
  main.append(
    h('h1', { text: 'Live tail' }),
    h('div', { class: 'query' },
      h('label', { for: 'tail-q', text: 'Query' }), q, start, pause, clear,
      h('label', { for: 'tail-filter', text: 'Filter' }), filter,
      h('span', { class: 'check' }, auto, h('label', { for: 'tail-auto', text: 'Auto-scroll' }))),
    error, state, behind, list,
  );
  let controller = null;
  let paused = false;
  let pending = [];
  let count = 0;

  const matches = (line) => !filter.value || line.toLowerCase().includes(filter.value.toLowerCase());
  function add(rec, line) {
    const c = recordCells(rec);
    const li = h('li', { 'data-line': line },
      h('span', { class: 'ts', text: c.ts }), ' ',
      h('span', { class: levelClass(c.level), text: c.level }), ' ',
      h('span', { class: 'msg', text: c.msg }), ' ',
      h('span', { class: 'extra', text: c.extra }));
    li.hidden = !matches(line);
    list.append(li);
    while (list.childElementCount > MAX_LINES) list.firstElementChild.remove();
    if (auto.checked) list.scrollTop = list.scrollHeight;
  }
  function showBehind() {
    behind.textContent = paused ? `Paused: ${num(pending.length)} lines behind.` : '';
  }
  async function run() {
    controller = new AbortController();
    const signal = controller.signal;
    ctx.state.tailQuery = q.value;
    start.textContent = 'Stop';
    pause.disabled = false;
    state.textContent = 'Connecting…';
    error.textContent = '';
    try {
      const opened = tail({ query: q.value }, signal, (rec, line) => {
        count++;
        if (paused) {
          pending.push([rec, line]);
          showBehind();
        } else add(rec, line);
      }, () => {
        state.textContent = 'Tailing (live).';
      });
      await opened;
      state.textContent = 'The stream ended.';
    } catch (e) {
      if (e.name !== 'AbortError') {
        error.textContent = e.message;
        ctx.onAuthError(e);
      }
      state.textContent = 'Stopped.';
    }
    stop();
  }
  function stop() {
    if (controller) controller.abort();
    controller = null;
    start.textContent = 'Start';
    pause.disabled = true;
    setPaused(false);
  }
  function setPaused(p) {
    paused = p;
    pause.textContent = p ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(p));
    if (!p) {
      for (const [rec, line] of pending) add(rec, line);
      pending = [];
    }
    showBehind();
  }
  start.addEventListener('click', () => (controller ? stop() : run()));
  pause.addEventListener('click', () => setPaused(!paused));
  clear.addEventListener('click', () => list.replaceChildren());
  filter.addEventListener('input', () => {
    for (const li of list.children) li.hidden = !matches(li.dataset.line);
  });
  q.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      stop();
      run();
    }
  });
  return () => stop();
}

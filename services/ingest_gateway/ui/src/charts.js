// Time-series charts (uPlot): one small wrapper so the pages only say what
// to draw. Charts follow their container's width (laptop or phone) and each
// has a text alternative (its latest values) for screen readers.

import uPlot from 'uplot';
import { h } from './util.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
export const LEVEL_COLOURS = { DEBUG: '#6b7280', INFO: '#1f77b4', WARN: '#b45309', ERROR: '#c62828' };

export class Chart {
  /// title: heading; opts: { height, unit, bars, window (seconds shown), onSelect(fromSec, toSec) }
  constructor(parent, title, opts = {}) {
    this.opts = opts;
    this.names = null;
    this.el = h('figure', { class: 'chart' }, h('figcaption', { text: title }));
    this.plotEl = h('div', { class: 'plot', role: 'img', 'aria-label': title });
    this.summary = h('p', { class: 'sr-only', 'aria-live': 'off' });
    this.el.append(this.plotEl, this.summary);
    parent.append(this.el);
    this.plot = null;
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(this.el);
  }

  size() {
    return { width: Math.max(200, this.el.clientWidth - 16), height: this.opts.height || 160 };
  }

  build(names, colours) {
    if (this.plot) this.plot.destroy();
    this.names = names.join('\u0000');
    const unit = this.opts.unit || '';
    const series = [{}].concat(
      names.map((n, i) => ({
        label: n,
        stroke: (colours && colours[n]) || PALETTE[i % PALETTE.length],
        fill: this.opts.bars ? ((colours && colours[n]) || PALETTE[i % PALETTE.length]) + '55' : undefined,
        width: 1.5,
        points: { show: false },
        paths: this.opts.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined,
        value: (u, v) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(v % 1 ? 2 : 0)}${unit}`),
      })),
    );
    const hooks = {};
    if (this.opts.onSelect) {
      hooks.setSelect = [
        (u) => {
          if (u.select.width < 3) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0 }, false);
          this.opts.onSelect(from, to);
        },
      ];
    }
    this.plot = new uPlot(
      {
        ...this.size(),
        series,
        scales: { x: { time: true, range: this.opts.window ? (u, min, max) => [max - this.opts.window, max] : undefined }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { size: 50 }],
        legend: { live: true },
        cursor: { drag: { x: !!this.opts.onSelect, y: false, setScale: false } },
        hooks,
      },
      [[]].concat(names.map(() => [])),
      this.plotEl,
    );
  }

  /// xs: epoch seconds; data: { name: values[] } (same length as xs).
  update(xs, data, colours) {
    const names = Object.keys(data);
    if (!names.length) names.push('none');
    if (this.names !== names.join('\u0000')) this.build(names, colours);
    this.plot.setData([xs].concat(names.map((n) => data[n] || xs.map(() => null))));
    const last = names.map((n) => `${n} ${data[n] ? data[n][data[n].length - 1] ?? '–' : '–'}`).join(', ');
    this.summary.textContent = `Latest: ${last}`;
  }
}

// Throughput chart on a <canvas>: one stacked area per series (channel) over a sliding time
// window, fed once a second from the gateway's `stats` events. Drawn only when data arrives or
// the size/theme changes, never per animation frame.

import { formatRate } from './format.js';

const GAP_MS = 3500; // samples further apart than this: the stream was down, break the areas

// Smallest round number (1, 1.5, 2, 3, 4, 5, 6, 8 × 10^n) at or above v.
function niceCeil(v) {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export class StackedChart {
  constructor(canvas, legend, { windowMs = 120000, colorFor, unit = '' }) {
    this.canvas = canvas;
    this.legend = legend;
    this.windowMs = windowMs;
    this.colorFor = colorFor;
    this.unit = unit;
    this.samples = []; // { t, v: { series: value } }, oldest first
    this.series = []; // names, sorted, stacking order bottom-up
    this.legendItems = new Map(); // name -> value <span>
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  get points() { return this.samples.length; }

  // Total of the newest sample (0 when none).
  get current() {
    const last = this.samples[this.samples.length - 1];
    return last ? Object.values(last.v).reduce((a, b) => a + b, 0) : 0;
  }

  push(t, values) {
    this.samples.push({ t, v: values });
    const oldest = t - this.windowMs - GAP_MS;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop].t < oldest) drop++;
    if (drop) this.samples.splice(0, drop);
    let added = false;
    for (const name of Object.keys(values)) {
      if (!this.series.includes(name)) {
        this.series.push(name);
        added = true;
      }
    }
    if (added) this.series.sort();
    this.updateLegend(values, added);
    this.draw();
  }

  updateLegend(values, rebuild) {
    if (!this.legend) return;
    if (rebuild) {
      this.legend.replaceChildren();
      this.legendItems.clear();
      for (const name of this.series) {
        const li = document.createElement('li');
        const sw = document.createElement('i');
        sw.className = 'swatch';
        sw.style.background = this.colorFor(name); // CSSOM, allowed by the CSP
        const label = document.createElement('span');
        label.className = 'name';
        label.textContent = name;
        const val = document.createElement('span');
        val.className = 'val';
        li.append(sw, label, val);
        li.title = name;
        this.legend.append(li);
        this.legendItems.set(name, val);
      }
    }
    for (const [name, el] of this.legendItems) {
      el.textContent = formatRate(values[name] || 0) + this.unit;
    }
  }

  draw() {
    const c = this.canvas;
    const cssW = c.clientWidth, cssH = c.clientHeight;
    if (!cssW || !cssH) return;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);

    const css = getComputedStyle(document.documentElement);
    const gridColor = css.getPropertyValue('--chart-grid').trim() || '#8884';
    const textColor = css.getPropertyValue('--muted').trim() || '#888';
    const font = '10px ' + (css.getPropertyValue('--mono').trim() || 'monospace');

    const left = 40, right = 6, top = 6, bottom = 16;
    const w = cssW - left - right, h = cssH - top - bottom;
    const now = this.samples.length ? Math.max(Date.now(), this.samples[this.samples.length - 1].t)
                                    : Date.now();
    const x = (t) => left + w * (1 - (now - t) / this.windowMs);

    let max = 0;
    for (const s of this.samples) {
      let sum = 0;
      for (const name of this.series) sum += s.v[name] || 0;
      if (sum > max) max = sum;
    }
    const ymax = niceCeil(max * 1.1);
    const y = (v) => top + h * (1 - v / ymax);

    // Grid and labels.
    g.font = font;
    g.lineWidth = 1;
    g.strokeStyle = gridColor;
    g.fillStyle = textColor;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (const frac of [0, 0.5, 1]) {
      const yy = Math.round(y(ymax * frac)) + 0.5;
      g.beginPath();
      g.moveTo(left, yy);
      g.lineTo(left + w, yy);
      g.stroke();
      g.fillText(formatRate(ymax * frac), left - 6, yy);
    }
    g.textBaseline = 'alphabetic';
    for (const [ago, label, align] of [[this.windowMs, '−2 min', 'left'],
                                        [this.windowMs / 2, '−1 min', 'center'],
                                        [0, 'now', 'right']]) {
      g.textAlign = align;
      g.fillText(label, x(now - ago), cssH - 3);
    }

    // Runs of samples without a gap; each series is stacked on the ones before it.
    const runs = [];
    let run = [];
    for (const s of this.samples) {
      if (run.length && s.t - run[run.length - 1].t > GAP_MS) {
        runs.push(run);
        run = [];
      }
      run.push(s);
    }
    if (run.length) runs.push(run);

    g.save();
    g.beginPath();
    g.rect(left, top - 1, w, h + 2);
    g.clip();
    for (const r of runs) {
      const base = new Float64Array(r.length);
      for (const name of this.series) {
        const color = this.colorFor(name);
        const tops = r.map((s, i) => base[i] + (s.v[name] || 0));
        g.beginPath();
        r.forEach((s, i) => (i ? g.lineTo(x(s.t), y(tops[i])) : g.moveTo(x(s.t), y(tops[i]))));
        for (let i = r.length - 1; i >= 0; i--) g.lineTo(x(r[i].t), y(base[i]));
        g.closePath();
        g.globalAlpha = 0.28;
        g.fillStyle = color;
        g.fill();
        g.globalAlpha = 1;
        g.beginPath();
        r.forEach((s, i) => (i ? g.lineTo(x(s.t), y(tops[i])) : g.moveTo(x(s.t), y(tops[i]))));
        g.strokeStyle = color;
        g.lineWidth = 1.5;
        g.stroke();
        tops.forEach((v, i) => { base[i] = v; });
      }
      if (r.length === 1) { // a lone sample: a dot, so the first second shows something
        g.fillStyle = textColor;
        g.fillRect(x(r[0].t) - 1.5, y(base[0]) - 1.5, 3, 3);
      }
    }
    g.restore();
  }
}

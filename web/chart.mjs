/**
 * chart.mjs — a small line chart of last prices on a canvas, redrawn at most once a frame.
 */

export class PriceChart {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.points = []; // [{time: "HH:MM:SS", price}]
    this.decimals = 2;
    this.reference = NaN; // previous settlement: the line is green above it, red below
    this._queued = false;
    new ResizeObserver(() => this.redraw()).observe(canvas);
  }

  /** Show these points (the caller keeps the array; it may grow between redraws). */
  show(points, { decimals = 2, reference = NaN } = {}) {
    this.points = points;
    this.decimals = decimals;
    this.reference = reference;
    this.redraw();
  }

  redraw() {
    if (this._queued) return;
    this._queued = true;
    requestAnimationFrame(() => {
      this._queued = false;
      this._draw();
    });
  }

  _draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(canvas);
    const color = (name) => style.getPropertyValue(name).trim() || "#888";
    ctx.font = "11px system-ui, sans-serif";
    const points = this.points;
    if (points.length < 2) {
      ctx.fillStyle = color("--muted");
      ctx.fillText(points.length ? "waiting for ticks…" : "no data", 8, height / 2);
      return;
    }
    const prices = points.map((p) => p.price);
    let low = Math.min(...prices);
    let high = Math.max(...prices);
    const pad = high === low ? Math.max(Math.abs(high) * 0.001, 1) : (high - low) * 0.08;
    high += pad;
    low -= pad;
    const left = 6;
    const right = width - 64;
    const top = 8;
    const bottom = height - 16;
    const x = (i) => left + ((right - left) * i) / (points.length - 1);
    const y = (price) => bottom - ((bottom - top) * (price - low)) / (high - low);

    ctx.strokeStyle = color("--grid");
    ctx.fillStyle = color("--muted");
    ctx.lineWidth = 1;
    const labels = new Set();
    for (const price of [high, (high + low) / 2, low]) {
      const yy = Math.round(y(price)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(right, yy);
      ctx.stroke();
      const label = price.toFixed(this.decimals);
      if (!labels.has(label)) ctx.fillText(label, right + 6, yy + 4);
      labels.add(label);
    }
    ctx.fillText(points[0].time, left, height - 3);
    const lastTime = points[points.length - 1].time;
    ctx.fillText(lastTime, right - ctx.measureText(lastTime).width, height - 3);

    const last = prices[prices.length - 1];
    const up = !(last < this.reference);
    ctx.strokeStyle = color(up ? "--up" : "--down");
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(x(i), y(p.price)) : ctx.moveTo(x(i), y(p.price))));
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath();
    ctx.arc(x(points.length - 1), y(last), 2.5, 0, Math.PI * 2);
    ctx.fill();
  }
}

// In-page renderer of the ktv report: reads the chart specs (reports/report/charts.ts) from the JSON block and
// draws each with uPlot, which is inlined before this script. Plain browser JavaScript, inlined at build time:
// the page works from a file with no network. Marks each drawn chart (data-rendered) for the browser test.
(() => {
  const data = JSON.parse(document.getElementById("ktv-data").textContent);
  const faults = data.faults;
  const HEIGHT = 250;
  const plots = [];

  function rgba(hex, a) {
    const n = Number.parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
  }

  // Bars as rectangles: "grouped" puts the series of a category side by side, "overlap" centres each bar.
  function barsPath(slot, count) {
    return (u, si, i0, i1) => {
      const xs = u.data[0];
      const ys = u.data[si];
      const key = u.series[si].scale;
      const step = xs.length > 1 ? xs[1] - xs[0] : 1;
      const unit = Math.abs(u.valToPos(step, "x", true) - u.valToPos(0, "x", true));
      const full = unit * 0.8;
      const w = full / count;
      const scale = u.scales[key];
      const base = u.valToPos(scale.distr === 3 ? scale.min : Math.max(0, scale.min), key, true);
      const path = new Path2D();
      for (let i = i0; i <= i1; i++) {
        const v = ys[i];
        if (v == null) continue;
        const cx = u.valToPos(xs[i], "x", true);
        const top = u.valToPos(v, key, true);
        path.rect(cx - full / 2 + slot * w, Math.min(top, base), Math.max(w - 1, 1), Math.abs(base - top));
      }
      return { stroke: path, fill: path };
    };
  }

  // A value with no neighbour (a stage measured in only some seconds of a short run) draws no line segment, so
  // such series show their points too; dense series stay lines.
  function isolated(ys) {
    if (!ys) return false;
    for (let i = 0; i < ys.length; i++) {
      if (ys[i] == null) continue;
      if ((i === 0 || ys[i - 1] == null) && (i === ys.length - 1 || ys[i + 1] == null)) return true;
    }
    return false;
  }

  function seriesOpts(spec, s, barSlot, barCount, ys) {
    const o = {
      label: s.label,
      stroke: s.color,
      width: 2,
      scale: s.axis === "y2" ? "y2" : "y",
      spanGaps: spec.x.kind === "value",
      points:
        s.points || (s.style !== "bars" && isolated(ys))
          ? { show: true, size: 5, fill: s.color, stroke: s.color }
          : { show: false },
    };
    if (s.dash) o.dash = s.dash;
    if (s.style === "bars") {
      const grouped = spec.bars === "grouped";
      o.paths = barsPath(grouped ? barSlot : 0, grouped ? barCount : 1);
      o.fill = rgba(s.color, 0.85);
      o.width = 1;
    } else if (s.style === "step") {
      o.paths = uPlot.paths.stepped({ align: 1 });
    }
    return o;
  }

  // Fault spans as shaded bands under the series, with the fault id written at the top of each band.
  function drawFaults(u, firstFault) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const px = window.devicePixelRatio || 1;
    ctx.save();
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    faults.forEach((f, k) => {
      if (!u.series[firstFault + k].show) return;
      for (const span of f.spans) {
        const x0 = u.valToPos(span.from_s - 0.5, "x", true);
        const x1 = u.valToPos(span.to_s + 0.5, "x", true);
        const a = Math.max(left, Math.min(x0, x1));
        const b = Math.min(left + width, Math.max(x0, x1, a + 2 * px));
        if (b <= a) continue;
        ctx.fillStyle = rgba(f.color, 0.13);
        ctx.fillRect(a, top, b - a, height);
        ctx.fillStyle = rgba(f.color, 0.9);
        ctx.fillRect(a, top, b - a, 3 * px);
        // The id may run past a narrow span; it stays inside the plot area.
        const label = f.fault_id;
        const x = Math.min(a + 3 * px, left + width - ctx.measureText(label).width - 3 * px);
        ctx.fillText(label, Math.max(left, x), top + 15 * px);
      }
    });
    ctx.restore();
  }

  const AXIS_FONT = "12px system-ui, sans-serif";
  const LINE_PX = 14;
  let measurer = null;

  // Category labels side by side when the widest fits its slot; else slanted 45° (a histogram's many
  // "0.02–0.05" buckets ran into each other flat). Slanted, neighbours are slot·sin 45° apart across the text,
  // which must hold one line; the axis grows to the slanted text's height. Recorded on the box for the test.
  function categoryLayout(cats, width, yAxes) {
    measurer = measurer || document.createElement("canvas").getContext("2d");
    measurer.font = AXIS_FONT;
    const widest = Math.max(0, ...cats.map((t) => measurer.measureText(t).width));
    const slot = Math.max(1, width - yAxes) / Math.max(cats.length, 1);
    if (widest + 8 <= slot) return { rotate: 0, size: 50, fits: true, slot, widest };
    const s = Math.SQRT1_2;
    const size = Math.ceil(widest * s + LINE_PX * s) + 16;
    return { rotate: 45, size, fits: slot * s >= LINE_PX, slot, widest };
  }

  function options(spec, width) {
    const category = spec.x.kind === "category";
    const cats = spec.x.categories || [];
    const layout = category ? categoryLayout(cats, width, 64 + (spec.y2 ? 56 : 0)) : null;
    const bars = spec.series.filter((s) => s.style === "bars").length;
    let slot = 0;
    const series = [{ label: spec.x.label }];
    spec.series.forEach((s, i) => {
      series.push(seriesOpts(spec, s, s.style === "bars" ? slot++ : 0, bars, spec.data[i + 1]));
    });
    const firstFault = series.length;
    const withFaults = spec.faults && faults.length > 0;
    if (withFaults) {
      for (const f of faults) {
        series.push({
          label: `fault: ${f.fault_id}`,
          stroke: f.color,
          fill: rgba(f.color, 0.25),
          width: 2,
          scale: "y",
          paths: () => null,
          points: { show: false },
        });
      }
    }
    const yRange = (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1];
    const scales = {
      x: category ? { time: false, range: [-0.5, Math.max(cats.length, 1) - 0.5] } : { time: false },
      // Log counts: from the power of ten strictly below the smallest count, so a bucket of 7 frames (or of 1) is
      // a bar and not a sliver on the floor.
      y: spec.y.log
        ? {
            distr: 3,
            log: 10,
            range: (_u, min, max) => [
              10 ** Math.floor(Math.log10(Math.max(min, 1)) - 1e-9),
              10 ** Math.ceil(Math.log10(Math.max(max, 1) * 1.01)),
            ],
          }
        : { range: spec.id === "ttfa-cdf" ? [0, 100] : yRange },
    };
    const grid = { stroke: "#e8eaed", width: 1 };
    const ticks = { stroke: "#d0d4d9", width: 1 };
    const axisFont = AXIS_FONT;
    const labelFont = "600 12px system-ui, sans-serif";
    const axes = [
      {
        label: spec.x.label,
        stroke: "#4a5360",
        grid: category ? { show: false } : grid,
        ticks,
        font: axisFont,
        labelFont,
        ...(category
          ? {
              splits: () => cats.map((_, i) => i),
              values: (_u, splits) => splits.map((i) => cats[i] ?? ""),
              rotate: layout.rotate,
              size: layout.size,
            }
          : {}),
      },
      {
        label: spec.y.label,
        scale: "y",
        stroke: "#4a5360",
        grid,
        ticks,
        size: 64,
        font: axisFont,
        labelFont,
      },
    ];
    if (spec.y2) {
      scales.y2 = { range: yRange };
      axes.push({
        label: spec.y2.label,
        scale: "y2",
        side: 1,
        stroke: "#4a5360",
        grid: { show: false },
        ticks,
        size: 56,
        font: axisFont,
        labelFont,
      });
    }
    return {
      layout,
      width,
      height: HEIGHT,
      series,
      scales,
      axes,
      legend: { show: true },
      // Values appear in the legend while the cursor is over the plot; idle, the legend is just the key.
      hooks: {
        ready: [(u) => u.root.classList.add("idle")],
        setLegend: [(u) => u.root.classList.toggle("idle", u.legend.idx == null)],
        ...(withFaults ? { drawClear: [(u) => drawFaults(u, firstFault)] } : {}),
      },
      cursor: spec.x.kind === "time" ? { sync: { key: "ktv-time" } } : {},
    };
  }

  function alignedData(spec, extra) {
    const cols = spec.data.map((col) => col.slice());
    for (let i = 0; i < extra; i++) cols.push(cols[0].map(() => null));
    return cols;
  }

  let drawn = 0;
  for (const spec of data.charts) {
    const box = document.getElementById(`chart-${spec.id}`);
    if (!box || spec.empty) continue;
    try {
      const opts = options(spec, box.clientWidth);
      const extra = opts.series.length - spec.data.length;
      const plot = new uPlot(opts, alignedData(spec, extra), box);
      plots.push({ box, plot });
      box.dataset.axes = JSON.stringify(plot.axes.map((a) => a.label));
      if (opts.layout) box.dataset.xLabels = JSON.stringify(opts.layout);
      box.dataset.rendered = "1";
      drawn++;
    } catch (e) {
      box.dataset.error = String(e);
      box.textContent = `This chart could not be drawn: ${e}`;
      console.error(`chart ${spec.id}:`, e);
    }
  }
  document.documentElement.dataset.chartsRendered = String(drawn);

  // Colour swatches by script: the page's CSP allows no inline style attributes.
  for (const el of document.querySelectorAll(".swatch[data-color]")) el.style.background = el.dataset.color;

  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const { box, plot } of plots) plot.setSize({ width: box.clientWidth, height: HEIGHT });
    });
  });
})();

// Units and number formatting shared by the HTML report, the Markdown summary and the compare table, so a
// value reads the same everywhere.

/** The unit a metric's name carries: ttfa_ms -> "ms", mix_cost_us -> "µs". */
export function unitOf(metricOrSeries: string): string {
  // A tagged series (vendor_request_ms{route:/search/song}) has its metric's unit.
  const metric = metricOrSeries.replace(/\{.*\}$/, "");
  if (metric.endsWith("_ms")) return "ms";
  if (metric.endsWith("_us")) return "µs";
  if (metric.endsWith("_mbps")) return "Mb/s";
  if (metric.endsWith("_bytes")) return "B";
  return "";
}

/** 3 significant digits below 100, whole numbers above, thousands grouped: 0.0123, 4.57, 45.7, 1,234. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 100) return Math.round(v).toLocaleString("en-US");
  if (a >= 0.001) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

export function fmtUnit(v: number | null | undefined, unit: string): string {
  const s = fmt(v);
  return unit && s !== "–" ? `${s} ${unit}` : s;
}

/** A ratio as a percentage with 2 significant digits below 10%: 0.0213 -> "2.1%". */
export function fmtPct(v: number | null | undefined, signed = false): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "+∞%" : "-∞%";
  const pct = v * 100;
  const a = Math.abs(pct);
  const s = a >= 10 ? String(Number(pct.toFixed(1))) : pct.toFixed(2);
  return `${signed && pct > 0 ? "+" : ""}${s}%`;
}

export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return "–";
  return p >= 1e-4 ? p.toFixed(4) : p.toExponential(1);
}

export function fmtBytes(b: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = b;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${fmt(v)} ${units[i]}`;
}

export function fmtDuration(s: number): string {
  if (s < 60) return `${fmt(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An ISO timestamp as "2025-06-01 08:00:00 UTC"; text that is not a date is returned as it is. */
export function fmtTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
